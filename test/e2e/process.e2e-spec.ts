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

/** Every service a test started, killed after it whatever happened. */
const children: ServiceProcess[] = [];

function startService(env: Record<string, string>): Started {
  // The compiled service, as production runs it: no TypeScript compiler to load at each start.
  const child = spawnService([compiledService()], {
    SANDBOX_PORT: '0',
    SANDBOX_SQS_PORT: '0',
    LOG_FORMAT: 'json',
    ...env,
  });
  children.push(child);
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/** The JSON log lines the process wrote. */
function jsonLines(started: Started): Record<string, unknown>[] {
  return started
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function lineWith(started: Started, msg: string | RegExp): Record<string, unknown> | undefined {
  return jsonLines(started).find((l) => (typeof msg === 'string' ? l.msg === msg : msg.test(String(l.msg))));
}

/** `npm run job -- <name>` as a separate process. */
function runJobCommand(name: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawnService(['-r', 'ts-node/register/transpile-only', 'src/cli/job.ts', name], {
    LOG_FORMAT: 'json',
    ...env,
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, output })));
}

async function waitReady(port: number, started: Started): Promise<void> {
  const until = Date.now() + 90_000;
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
  // A failed test must not leave its service (and the embedded Postgres it stops on SIGTERM) behind.
  afterEach(async () => {
    const running = children.splice(0).filter((c) => c.exitCode === null && c.signalCode === null);
    await Promise.all(
      running.map(
        (child) =>
          new Promise<void>((resolve) => {
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      ),
    );
  });
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  // Two starts of the service under ts-node and a CLI process: minutes on a loaded 2-core machine.
  it('starts on the embedded Postgres, stops on SIGINT with exit 0 and nothing left, and reuses its data', async () => {
    const port = await freePort();
    const first = startService({ PORT: String(port), DATA_DIR: dataDir });
    await waitReady(port, first);
    expect(first.output()).toContain('initialising embedded Postgres');

    // One line says what runs where, with the development token kept (0600) in the data directory.
    const tokenFile = path.join(dataDir, 'development-token');
    const token = fs.readFileSync(tokenFile, 'utf8').trim();
    expect(fs.statSync(tokenFile).mode & 0o777).toBe(0o600);
    expect(lineWith(first, 'ec2-manager listening')).toMatchObject({
      url: `http://127.0.0.1:${port}`,
      listen: `127.0.0.1:${port}`,
      swaggerUi: `http://127.0.0.1:${port}/api`,
      mode: 'sandbox',
      database: expect.stringMatching(/^embedded Postgres on 127\.0\.0\.1:\d+, data in /),
      cloud: expect.stringMatching(/^sandbox in this process: EC2 http/),
      clientId: 'sandbox-developer',
      bearerToken: token,
      tokenFile,
    });
    // Nest's module and route lines are debug; the listening line is near the end of a short start.
    expect(lineWith(first, /^Mapped \{/)).toBeUndefined();
    expect(jsonLines(first).length).toBeLessThan(20);

    // Leave a mark in the service's own database, found through the cluster's lock file: history
    // (AMI usage) and an instance of the sandbox cloud that dies with this process.
    const pgPort = fs.readFileSync(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[3];
    const client = new Client(`postgres://postgres@127.0.0.1:${pgPort}/ec2_manager`);
    await client.connect();
    try {
      await client.query(`INSERT INTO ami_usage (region, id, last_used) VALUES ('us-east-1', 'ami-mark', now())`);
      await client.query(
        `INSERT INTO instances (region, id, worker_type, az, instance_type, state, image_id, launched, last_event)
         VALUES ('us-east-1', 'i-0000000000000abcd', 'builder', 'us-east-1a', 'm5.large', 'running', 'ami-mark', now(), now())`,
      );
    } finally {
      await client.end();
    }

    first.child.kill('SIGINT');
    expect(await first.exited).toBe(0);
    expect(postgresProcessesUsing(dataDir)).toEqual([]);
    expect(fs.existsSync(path.join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);
    expect(fs.existsSync(path.join(dataDir, 'service.json'))).toBe(false);

    const second = startService({ PORT: String(port), DATA_DIR: dataDir, HOST: '0.0.0.0' });
    await waitReady(port, second);
    expect(second.output()).not.toContain('initialising embedded Postgres');
    expect(lineWith(second, 'ec2-manager listening')).toMatchObject({ listen: `0.0.0.0:${port}`, bearerToken: token });
    // The new sandbox never had the old one's instance: it is forgotten at start, and the log says so.
    expect(lineWith(second, /^the sandbox cloud is new/)).toMatchObject({
      level: 'info',
      instances: 1,
      spotRequests: 0,
    });
    const stats = await fetch(`http://127.0.0.1:${port}/v1/worker-types/builder/stats`);
    expect(await stats.json()).toEqual({ pending: [], running: [] });
    const pgPort2 = fs.readFileSync(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[3];
    const client2 = new Client(`postgres://postgres@127.0.0.1:${pgPort2}/ec2_manager`);
    await client2.connect();
    try {
      const { rows } = await client2.query(`SELECT id FROM ami_usage`);
      expect(rows).toEqual([{ id: 'ami-mark' }]);
      // It never ended: it never existed in this cloud. No termination is recorded for it.
      const { rows: ended } = await client2.query(`SELECT instance_id FROM terminations`);
      expect(ended).toEqual([]);
    } finally {
      await client2.end();
    }

    // A one-off command beside the running service asks it to run the pass, with no settings but the data directory.
    const job = await runJobCommand('housekeeping', { DATA_DIR: dataDir });
    expect({ code: job.code, output: job.output }).toMatchObject({ code: 0 });
    const answer = job.output
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.msg === 'job pass finished');
    expect(answer).toMatchObject({ job: 'housekeeping', result: 'ran', outcome: { regions: 3 } });
    expect(
      jsonLines(second).some((l) => (l.req as { url?: string } | undefined)?.url === '/v1/internal/jobs/housekeeping'),
    ).toBe(true);

    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(postgresProcessesUsing(dataDir)).toEqual([]);
  }, 240_000);

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
      expect(fs.existsSync(path.join(otherDir, 'postgres'))).toBe(false);
    } finally {
      await db.drop();
    }
  }, 120_000);

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
