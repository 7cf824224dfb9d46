import { randomBytes, randomUUID } from 'node:crypto';

const POOL_SIZE = 64 * 1024;
let pool = randomBytes(POOL_SIZE);
let offset = 0;

/** Random bytes from a refilled pool: one `randomBytes` call per ~7000 ids keeps seeding 100k instances cheap. */
function take(n: number): Buffer {
  if (offset + n > POOL_SIZE) {
    pool = randomBytes(POOL_SIZE);
    offset = 0;
  }
  const out = pool.subarray(offset, offset + n);
  offset += n;
  return out;
}

/** `<prefix>-` plus 17 hex digits, EC2's long resource id format (i-, vol-, r-, key-). */
export function hexId(prefix: string): string {
  return `${prefix}-${take(9).toString('hex').slice(0, 17)}`;
}

const ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** Spot request ids look like `sir-8vkg3w8m`. */
export function spotRequestId(): string {
  const bytes = take(8);
  let s = 'sir-';
  for (const b of bytes) s += ALNUM[b % ALNUM.length];
  return s;
}

export function requestId(): string {
  return randomUUID();
}

/** Keeps drawing until `exists` says the id is free; collisions are astronomically rare but cheap to rule out. */
export function uniqueId(make: () => string, exists: (id: string) => boolean): string {
  for (;;) {
    const id = make();
    if (!exists(id)) return id;
  }
}
