import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { freePort } from '../../src/state/embedded-postgres';
import { createTestDatabase } from '../db';
import { compiledService } from '../support/compiled-service';
import { ServiceProcess, spawnService } from '../support/service-process';

interface Started {
  child: ServiceProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function startService(env: Record<string, string>): Started {
  // The compiled service, as production runs it: no TypeScript compiler to load at each start.
  const child = spawnService([compiledService()], {
    SANDBOX_PORT: '0',
    SANDBOX_SQS_PORT: '0',
    LOG_FORMAT: 'json',
    ...env,
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function waitReady(port: number, started: Started): Promise<void> {
  const until = Date.now() + 45_000;
  while (Date.now() < until) {
    if (started.child.exitCode !== null) throw new Error(`service exited early: ${started.output()}`);
    try {
      // The port was free when picked, but another test's server may have taken it since: only this
      // child's own "listening" line proves the answer comes from it.
      if (!started.output().includes(`"url":"http://127.0.0.1:${port}"`)) throw new Error('not listening yet');
      const res = await fetch(`http://127.0.0.1:${port}/health/ready`);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`service not ready in time: ${started.output()}`);
}

function postgresProcessesUsing(dir: string): string[] {
  return fs
    .readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .map((p) => {
      try {
        return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ');
      } catch {
        return '';
      }
    })
    .filter((cmd) => cmd.includes(dir));
}

describe('the service process', () => {
  let dataDir: string;

  beforeAll(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ec2m-process-test-'));
    fs.chmodSync(dataDir, 0o755); // the embedded Postgres runs unprivileged when we are root
  });
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('starts on the embedded Postgres, stops on SIGINT with exit 0 and nothing left, and reuses its data', async () => {
    const port = await freePort();
    const first = startService({ PORT: String(port), DATA_DIR: dataDir });
    await waitReady(port, first);
    expect(first.output()).toContain('initialising embedded Postgres');

    // Leave a mark in the service's own database, found through the cluster's lock file.
    const pgPort = fs.readFileSync(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[3];
    const client = new Client(`postgres://postgres@127.0.0.1:${pgPort}/ec2_manager`);
    await client.connect();
    try {
      await client.query(`INSERT INTO ami_usage (region, id, last_used) VALUES ('us-east-1', 'ami-mark', now())`);
    } finally {
      await client.end();
    }

    first.child.kill('SIGINT');
    expect(await first.exited).toBe(0);
    expect(postgresProcessesUsing(dataDir)).toEqual([]);
    expect(fs.existsSync(path.join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);

    const second = startService({ PORT: String(port), DATA_DIR: dataDir });
    await waitReady(port, second);
    expect(second.output()).not.toContain('initialising embedded Postgres');
    const pgPort2 = fs.readFileSync(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[3];
    const client2 = new Client(`postgres://postgres@127.0.0.1:${pgPort2}/ec2_manager`);
    await client2.connect();
    const { rows } = await client2.query(`SELECT id FROM ami_usage`).finally(() => client2.end());
    expect(rows).toEqual([{ id: 'ami-mark' }]);

    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(postgresProcessesUsing(dataDir)).toEqual([]);
  });

  it('uses DATABASE_URL when given, starts no Postgres of its own, and stops when its parent goes', async () => {
    const db = await createTestDatabase();
    const port = await freePort();
    const otherDir = path.join(dataDir, 'unused');
    try {
      const started = startService({ PORT: String(port), DATA_DIR: otherDir, DATABASE_URL: db.url });
      await waitReady(port, started);
      // What the child sees when the test process dies, however it dies: its IPC channel closes.
      started.child.disconnect();
      expect(await started.exited).toBe(0);
      expect(started.output()).toContain('"signal":"parent gone"');
      expect(fs.existsSync(otherDir)).toBe(false);
    } finally {
      await db.drop();
    }
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ REGIONS: '' }, 'REGIONS'],
    [{ INSTANCE_PUBKEY: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGVj me' }, 'INSTANCE_PUBKEY'],
  ])('refuses to start with %j: one line naming %s, exit 1', async (env, variable) => {
    const started = startService({ ...env, DATA_DIR: path.join(dataDir, 'never') });
    expect(await started.exited).toBe(1);
    const lines = started.output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^ec2-manager: invalid configuration: ${variable}: `));
  });
});
