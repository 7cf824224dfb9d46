import { parseSshPublicKey } from './ssh-public-key';

// Throw-away keys made with ssh-keygen for this test.
const ED25519 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINglv+/qhFJF2BLYrmiuwq2ObUCYc65EVQcdduzb1DBO test@ed';
const RSA =
  'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCodZ0pvKAXQBoRRSKF7CBQgH7ozpU6d2HUPYuanMNki3LI7Oe5Awl99hpARuULYv7hskNz6kpUDKw8NMDm/hc4lp/Z+aK2lejOE+F5B1nn3+UenB2uX3RpTF6thjxyS2OqyvQ4vJW1mlzkBSeLdg2l1aXItREZPHQNJ1P40Xcq3y4UWFUGq3qRhOIKn3py4KNg850459X8+TTZVQe6MDb5GxH1TmvTjSttwBtx+bAZTwMDaN5ta6CtgXeS/tUcN0q3Xieulw//zfgCjSuqc/D6z7xtt243ou49tZcGO+9T9Jz0L4HLQYxBMVPQLcX5ggOrJRPe+nqJAev4nvtQ0YuZ test@rsa';
const ECDSA =
  'ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBEK4mNq3COJz4PZsGfenTY1eIbPUsD0ZxdPJ3zQq2Nq36e7oAsljRx3hEW9NOGg1BEereWYDJPg6Hhj4sL4XPWUSnvXJMSxicAjp2Sa05/s3JLTrYOI3EJuXbishuk5t9g== test@ecdsa';

/** OpenSSH wire format: each field prefixed by its 32-bit length. */
function wire(...fields: (string | Buffer)[]): string {
  return Buffer.concat(
    fields.flatMap((f) => {
      const b = typeof f === 'string' ? Buffer.from(f, 'latin1') : f;
      const n = Buffer.alloc(4);
      n.writeUInt32BE(b.length);
      return [n, b];
    }),
  ).toString('base64');
}

describe('parseSshPublicKey', () => {
  it.each([
    [ED25519, 'ssh-ed25519'],
    [RSA, 'ssh-rsa'],
    [ECDSA, 'ecdsa-sha2-nistp384'],
  ])('accepts a key made by ssh-keygen: %#', (line, type) => {
    const key = parseSshPublicKey(line);
    expect(key.type).toBe(type);
    expect(key.typeAndKey).toBe(line.split(' ').slice(0, 2).join(' '));
    expect(key.comment).toMatch(/^test@/);
  });

  it.each([
    ['garbage', /not an OpenSSH public key line/],
    ['ssh-ed25519 AAAA!!!', /not an OpenSSH public key line/],
    ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGVj', /ends inside its public key/],
    [`ssh-rsa ${ED25519.split(' ')[1]}`, /the key data says "ssh-ed25519", the text "ssh-rsa"/],
    [`ssh-ed25519 ${wire('ssh-ed25519', Buffer.alloc(31, 1))}`, /32 bytes, this one 31/],
    [`ssh-ed25519 ${wire('ssh-ed25519', Buffer.alloc(32, 1), 'x')}`, /stray bytes/],
    [
      `ssh-rsa ${wire('ssh-rsa', Buffer.from([1, 0, 1]), Buffer.concat([Buffer.from([0]), Buffer.alloc(64, 0xff)]))}`,
      /512 bits/,
    ],
    [
      `ssh-rsa ${wire('ssh-rsa', Buffer.from([2]), Buffer.concat([Buffer.from([0]), Buffer.alloc(256, 0xff)]))}`,
      /not odd/,
    ],
    [`ecdsa-sha2-nistp256 ${wire('ecdsa-sha2-nistp256', 'nistp384', Buffer.alloc(65, 4))}`, /names curve nistp384/],
    [`ssh-dss ${wire('ssh-dss', 'p')}`, /ssh-dss is not supported/],
  ])('refuses %s, saying why', (line, why) => {
    expect(() => parseSshPublicKey(line)).toThrow(why);
  });
});
