import { spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { createDataSource } from '../../src/state/data-source';
import { RunningPostgres, startEmbeddedPostgres } from '../../src/state/embedded-postgres';
import { withDatabase } from '../global-setup';

/**
 * Ports for these servers: below the ephemeral range (32768-60999), where the sandbox's and other
 * tests' listen(0) ports come from, so that no one takes ours while the server is stopped; and away
 * from the fixed ports of manual runs (5555-5557, 7xxx).
 */
const PORT_RANGE = [20000, 30000] as const;

/**
 * A Postgres server of a test's own (not the suite's shared one), which the test can do to what an
 * outage does: stop it, start it again on the same port with the same data, freeze it (SIGSTOP, the
 * kernel keeps accepting connections and nothing answers) and thaw it.
 */
export interface PostgresServer {
  /** Superuser URL to the `postgres` database. */
  readonly adminUrl: string;
  readonly port: number;
  /** Whether the server is running (frozen or not). */
  readonly running: boolean;
  /** A new database with every migration applied; the name contains "test". */
  createMigratedDatabase(): Promise<string>;
  /**
   * `fast` (SIGINT): disconnects every client and shuts down cleanly. `immediate` (SIGQUIT): the
   * server quits without a checkpoint, as a crash would, and recovers at the next start.
   */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Starts it again on the same port and data directory. */
  start(): Promise<void>;
  /** SIGSTOP to the postmaster and every backend: connections stay open and hang, new ones are not accepted. */
  freeze(): void;
  thaw(): void;
  /** Stops it whatever its state and deletes its data. */
  destroy(): Promise<void>;
}

/**
 * Initialises and starts a throw-away cluster (a few seconds: initdb). When we are root the server
 * runs as an unprivileged user, as `startEmbeddedPostgres` arranges.
 */
export async function startPostgresServer(): Promise<PostgresServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ec2m-test-pg-own-'));
  fs.chmodSync(dir, 0o755);
  let server: RunningPostgres | undefined;
  let port = 0;
  for (let attempt = 0; !server; attempt++) {
    port = randomInt(PORT_RANGE[0], PORT_RANGE[1]);
    try {
      server = await startEmbeddedPostgres({ dataDir: dir, ephemeral: true, port });
    } catch (err) {
      // Another process took the port (the server exits at once when it cannot bind): try another.
      if (attempt >= 5 || !/could not bind|Address already in use/i.test(String(err))) {
        fs.rmSync(dir, { recursive: true, force: true });
        throw err;
      }
    }
  }
  const watchdog = startWatchdog(dir);
  let current: RunningPostgres | undefined = server;
  let frozen = false;
  // Postgres puts each backend in a session of its own (setsid), so a signal to the postmaster's group
  // reaches only the postmaster: every process of the server is signalled by pid.
  const signalAll = (signal: NodeJS.Signals): void => {
    if (!current) return;
    for (const pid of serverProcesses(current.pid)) {
      try {
        process.kill(pid, signal);
      } catch {
        // exited meanwhile
      }
    }
  };

  const stop = async (mode: 'fast' | 'immediate' = 'fast'): Promise<void> => {
    const s = current;
    if (!s) return;
    const processes = serverProcesses(s.pid);
    if (frozen) {
      signalAll('SIGCONT');
      frozen = false;
    }
    if (mode === 'immediate') {
      process.kill(s.pid, 'SIGQUIT');
      await waitForExit(s.pid);
    } else {
      await s.stop();
    }
    // Backends may outlive the postmaster for a moment; a restart must not find them holding the port or memory.
    for (const pid of processes) await waitForExit(pid);
    current = undefined;
  };

  return {
    adminUrl: server.url,
    port,
    get running() {
      return current !== undefined;
    },
    async createMigratedDatabase() {
      const name = `ec2m_own_test_${randomBytes(4).toString('hex')}`;
      const admin = new Client({ connectionString: server.url });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${name} ENCODING 'UTF8' TEMPLATE template0`);
      } finally {
        await admin.end();
      }
      const url = withDatabase(server.url, name);
      const ds = createDataSource(url, 1);
      await ds.initialize();
      try {
        await ds.runMigrations();
      } finally {
        await ds.destroy();
      }
      return url;
    },
    stop,
    async start() {
      if (current) return;
      current = await startEmbeddedPostgres({ dataDir: dir, ephemeral: true, port });
    },
    freeze() {
      signalAll('SIGSTOP');
      frozen = true;
    },
    thaw() {
      signalAll('SIGCONT');
      frozen = false;
    },
    async destroy() {
      await stop('fast').catch(() => stop('immediate'));
      fs.rmSync(dir, { recursive: true, force: true });
      watchdog.kill();
    },
  };
}

/**
 * The server outlives a test process killed before `destroy()` (a timeout, SIGKILL, Ctrl-C: the
 * server has a process group of its own, and Node runs no exit hook on a signal). A small process
 * of its own, in its own group, holds an IPC channel to this one and, when the channel closes,
 * thaws and stops whatever server runs in `dir` (its pid read from `postmaster.pid`, so a restart
 * is covered) and deletes the directory. After a `destroy()` it finds nothing and exits.
 */
function startWatchdog(dir: string): ReturnType<typeof spawn> {
  const child = spawn(process.execPath, ['-e', WATCHDOG, dir], {
    detached: true,
    stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
  });
  // Neither the process nor its channel may keep this one's event loop alive.
  child.unref();
  child.channel?.unref();
  return child;
}

const WATCHDOG = `
const fs = require('node:fs');
const path = require('node:path');
const dir = process.argv[1];
const stat = (pid) => { try { return fs.readFileSync('/proc/' + pid + '/stat', 'utf8'); } catch { return ''; } };
const alive = (pid) => { const s = stat(pid); return s !== '' && s[s.lastIndexOf(')') + 2] !== 'Z'; };
const signal = (pid, sig) => { try { process.kill(pid, sig); } catch {} };
process.on('disconnect', () => {
  let pids = [];
  try {
    const pm = Number(fs.readFileSync(path.join(dir, 'postmaster.pid'), 'utf8').split('\\n')[0]);
    const children = fs.readdirSync('/proc').filter((e) => /^\\d+$/.test(e)).map(Number).filter((pid) => {
      const s = stat(pid);
      return s !== '' && Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]) === pm;
    });
    pids = [pm, ...children];
  } catch {}
  for (const pid of pids) signal(pid, 'SIGCONT');
  if (pids.length) signal(pids[0], 'SIGQUIT');
  const until = Date.now() + 10000;
  const finish = () => {
    if (pids.some(alive) && Date.now() < until) return setTimeout(finish, 100);
    for (const pid of pids) signal(pid, 'SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  };
  finish();
});
`;

/** Running, stopped or sleeping; a zombie (exited, not yet reaped) counts as gone. */
function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function waitForExit(pid: number, ms = 15000): Promise<void> {
  const until = Date.now() + ms;
  while (alive(pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
}

/** The postmaster (first, so that it forks nothing new once stopped) and its children. */
function serverProcesses(postmaster: number): number[] {
  const children: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === postmaster) children.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return [postmaster, ...children];
}
