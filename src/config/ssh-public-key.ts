/** The curves of the `ecdsa-sha2-*` key types, with the length of an uncompressed point on each. */
const ECDSA_POINT_BYTES: Record<string, number> = { nistp256: 65, nistp384: 97, nistp521: 133 };
/** EC2 imports RSA keys of 1024 to 4096 bits; smaller ones are not keys anyone should launch with. */
const RSA_MIN_BITS = 1024;
const RSA_MAX_BITS = 16384;

export interface SshPublicKey {
  type: string;
  /** `<type> <base64>`: what the key pair name's hash is computed over (SPEC §2). */
  typeAndKey: string;
  comment?: string;
}

/** OpenSSH's wire format: fields prefixed by their length as a 32-bit big-endian integer. */
class Reader {
  private at = 0;
  constructor(private readonly buf: Buffer) {}

  field(what: string): Buffer {
    if (this.at + 4 > this.buf.length) throw new Error(`the key data ends before its ${what}`);
    const length = this.buf.readUInt32BE(this.at);
    const start = this.at + 4;
    if (start + length > this.buf.length) throw new Error(`the key data ends inside its ${what}`);
    this.at = start + length;
    return this.buf.subarray(start, this.at);
  }

  end(): void {
    if (this.at !== this.buf.length) throw new Error(`${this.buf.length - this.at} stray bytes after the key`);
  }
}

/** Bits of an mpint (a big-endian two's complement integer, a leading 0 byte when the top bit is set). */
function mpintBits(value: Buffer, what: string): number {
  if (value.length === 0 || value[0] & 0x80) throw new Error(`its ${what} is not a positive integer`);
  let i = 0;
  while (i < value.length && value[i] === 0) i++;
  if (i === value.length) return 0;
  return (value.length - i - 1) * 8 + (32 - Math.clz32(value[i]));
}

function checkBody(type: string, data: Reader): void {
  if (type === 'ssh-ed25519') {
    const key = data.field('public key');
    if (key.length !== 32) throw new Error(`an ed25519 key is 32 bytes, this one ${key.length}`);
  } else if (type === 'ssh-rsa') {
    const e = data.field('public exponent');
    const n = data.field('modulus');
    if (mpintBits(e, 'public exponent') < 2 || !(e[e.length - 1] & 1)) throw new Error('its RSA exponent is not odd');
    const bits = mpintBits(n, 'modulus');
    if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS) {
      throw new Error(`its RSA modulus has ${bits} bits (${RSA_MIN_BITS}-${RSA_MAX_BITS} expected)`);
    }
  } else if (type.startsWith('ecdsa-sha2-')) {
    const curve = type.slice('ecdsa-sha2-'.length);
    const size = ECDSA_POINT_BYTES[curve];
    if (!size) throw new Error(`unknown ECDSA curve ${curve}`);
    const named = data.field('curve name').toString('latin1');
    if (named !== curve) throw new Error(`the key data names curve ${named}, the text ${curve}`);
    const point = data.field('public point');
    if (point.length !== size || point[0] !== 4)
      throw new Error(`its ECDSA point is not an uncompressed ${curve} point`);
  } else {
    throw new Error(`key type ${type} is not supported (ssh-ed25519, ssh-rsa or ecdsa-sha2-nistp256/384/521)`);
  }
  data.end();
}

/**
 * Parses an OpenSSH public key line (`<type> <base64> [comment]`) and checks what EC2's ImportKeyPair
 * will check: the base64 decodes to the wire format whose own key type is the one written in the text,
 * and the key itself has a sane shape for that type. Throws an Error saying what is wrong.
 */
export function parseSshPublicKey(line: string): SshPublicKey {
  const match = /^(\S+) ([A-Za-z0-9+/]+={0,2})(?: (.*))?$/.exec(line.trim());
  if (!match) throw new Error('not an OpenSSH public key line ("<type> <base64> [comment]")');
  const [, type, base64, comment] = match;
  const data = Buffer.from(base64, 'base64');
  if (data.toString('base64') !== base64) throw new Error('its key data is not valid base64');
  const reader = new Reader(data);
  const inner = reader.field('key type').toString('latin1');
  if (inner !== type) throw new Error(`the key data says ${JSON.stringify(inner)}, the text ${JSON.stringify(type)}`);
  checkBody(type, reader);
  return { type, typeAndKey: `${type} ${base64}`, comment: comment?.trim() || undefined };
}
