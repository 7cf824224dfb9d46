import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';

const FILE = 'development-token';

/** A token for the sandbox development client: 24 random bytes, URL-safe. */
export function newDevelopmentToken(): string {
  return randomBytes(24).toString('base64url');
}

/**
 * The sandbox development client's token, kept in `<dataDir>/development-token` (mode 0600) so that it
 * stays the same across restarts of one data directory: Swagger UI keeps the token it was given, and
 * `npm run job` beside a running service reads it from there.
 *
 * The token itself is stored, not its hash: the start-up summary must show it again, and the file sits
 * beside an embedded Postgres cluster that anyone who can read the directory can open anyway. Deleting
 * the file makes a new token at the next start.
 */
export async function loadDevelopmentToken(
  dataDir: string,
): Promise<{ token: string; file: string; created: boolean }> {
  const file = path.join(dataDir, FILE);
  await fs.mkdir(dataDir, { recursive: true });
  const existing = await read(file);
  if (existing) return { token: existing, file, created: false };
  const token = newDevelopmentToken();
  try {
    await fs.writeFile(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
    return { token, file, created: true };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    // Another process made it first: theirs stands. A file with no usable token in it is replaced.
    const raced = await read(file);
    if (raced) return { token: raced, file, created: false };
    await fs.writeFile(file, `${token}\n`, { mode: 0o600 });
    await fs.chmod(file, 0o600);
    return { token, file, created: true };
  }
}

/** The token in the file, or undefined when there is no usable one. Tightens a file others could read. */
async function read(file: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const token = text.trim();
  if (!/^[A-Za-z0-9_-]{16,}$/.test(token)) return undefined;
  const { mode } = await fs.stat(file);
  if (mode & 0o077) await fs.chmod(file, 0o600);
  return token;
}

/** The token of a running service's data directory, for one-off commands; undefined when none was made. */
export function readDevelopmentToken(dataDir: string): Promise<string | undefined> {
  return read(path.join(dataDir, FILE));
}
