import 'reflect-metadata';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Sandbox, startSandbox } from '../src/sandbox';
import { ServiceProcess, spawnService } from '../test/support/service-process';
import { benchDatabase } from './support/database';
import { percentile, progress, sleep } from './support/measure';
import { BenchResult, Comparison, runIfMain } from './support/report';
import { BENCH_API_CLIENTS, freePort, spawnCompiledService } from './support/service';

/**
 * Start-up time to ready and idle memory (issue #15): the service spawned as production runs it
 * (`node` on the compiled `src/main.ts`, what `npm run build` + `npm run start:prod` run), timed from
 * the spawn until `/health/ready` answers 200, on the embedded Postgres of its data directory (the
 * default, `npm start` without DATABASE_URL: the embedded server starts with it) and on a given
 * `DATABASE_URL` (already running). Then its resident memory (VmRSS of the node process) once it has
 * idled. `npm start` (ts-node, compiling as it loads) is timed too. The reference: a bare Node HTTP
 * server, spawned the same way, timed until it answers, and its RSS.
 *   npm run bench -- startup [--quick]
 */
const REGION = 'us-east-1';

function rssMiB(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1]);
  return kb / 1024;
}

interface Start {
  readyMs: number;
  rssMiB: number;
}

/** A bare Node HTTP server: the floor of "a process that answers HTTP". */
async function bareNode(idleMs: number): Promise<Start> {
  const port = await freePort();
  const start = performance.now();
  const child = spawn(
    process.execPath,
    ['-e', `require('node:http').createServer((q, s) => s.end('ok')).listen(${port}, '127.0.0.1')`],
    { stdio: 'ignore' },
  );
  try {
    for (;;) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/`);
        await res.arrayBuffer();
        if (res.status === 200) break;
      } catch {
        // not listening yet
      }
      await sleep(5);
    }
    const readyMs = performance.now() - start;
    await sleep(idleMs);
    return { readyMs, rssMiB: rssMiB(child.pid!) };
  } finally {
    child.kill();
  }
}

function serviceEnv(sandbox: Sandbox, dataDir: string, databaseUrl?: string): Record<string, string> {
  return {
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    DATA_DIR: dataDir,
    REGIONS: REGION,
    MANAGER_ID: 'bench',
    LOG_FORMAT: 'json',
    EC2_ENDPOINT: sandbox.endpoints.ec2,
    SQS_ENDPOINT: sandbox.endpoints.sqs,
    EVENTS_ENDPOINT: sandbox.endpoints.events,
    PRICING_ENDPOINT: sandbox.endpoints.pricing,
    API_CLIENTS: BENCH_API_CLIENTS,
  };
}

async function compiled(env: Record<string, string>, idleMs: number): Promise<Start> {
  const service = await spawnCompiledService(env);
  try {
    await sleep(idleMs);
    return { readyMs: service.readyMs, rssMiB: rssMiB(service.child.pid!) };
  } finally {
    await service.stop();
  }
}

/** `npm start`: ts-node compiling src/main.ts as it loads (what a developer runs). */
async function tsNode(env: Record<string, string>): Promise<number> {
  const port = await freePort();
  const start = performance.now();
  const child: ServiceProcess = spawnService(
    [path.join('node_modules', 'ts-node', 'dist', 'bin.js'), '--transpile-only', 'src/main.ts'],
    { ...env, PORT: String(port) },
  );
  child.stdout.resume();
  child.stderr.resume();
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}`);
      try {
        const res = await fetch(`http://127.0.0.1:${port}/health/ready`);
        await res.arrayBuffer();
        if (res.status === 200) return performance.now() - start;
      } catch {
        // not listening yet
      }
      await sleep(10);
    }
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
}

const median = (values: number[]) =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );

export async function run({ quick }: { quick: boolean }): Promise<BenchResult> {
  const runs = quick ? 1 : 3;
  const idleMs = quick ? 2000 : 10_000;
  const database = await benchDatabase('startup');
  const sandbox = await startSandbox({ regions: [REGION], clockSpeed: 0 });
  try {
    const bare: Start[] = [];
    const embedded: Start[] = [];
    const external: Start[] = [];
    const developer: number[] = [];
    // The first start of the embedded data directory runs initdb: not what a start costs; paid before timing.
    await compiled(serviceEnv(sandbox, '.data/bench-startup-embedded'), 0);
    for (let i = 0; i < runs; i++) {
      progress(`start-up ${i + 1} of ${runs}`);
      bare.push(await bareNode(idleMs));
      embedded.push(await compiled(serviceEnv(sandbox, '.data/bench-startup-embedded'), idleMs));
      external.push(await compiled(serviceEnv(sandbox, '.data/bench-startup', database.url), idleMs));
      developer.push(await tsNode(serviceEnv(sandbox, '.data/bench-startup', database.url)));
    }
    const bareReady = { what: 'bare Node HTTP server', value: median(bare.map((s) => s.readyMs)), unit: 'ms' };
    const bareRss = { what: 'bare Node HTTP server RSS', value: median(bare.map((s) => s.rssMiB)), unit: 'MiB' };
    const comparisons: Comparison[] = [
      {
        what: 'start to ready, embedded Postgres (started with it)',
        value: median(embedded.map((s) => s.readyMs)),
        unit: 'ms',
        reference: bareReady,
      },
      {
        what: 'start to ready, DATABASE_URL',
        value: median(external.map((s) => s.readyMs)),
        unit: 'ms',
        reference: bareReady,
      },
      {
        what: '`npm start` (ts-node) to ready, DATABASE_URL',
        value: median(developer),
        unit: 'ms',
        reference: bareReady,
      },
      {
        what: `idle RSS ${idleMs / 1000} s after ready, DATABASE_URL`,
        value: median(external.map((s) => s.rssMiB)),
        unit: 'MiB',
        reference: bareRss,
      },
      {
        what: `idle RSS ${idleMs / 1000} s after ready, embedded Postgres`,
        value: median(embedded.map((s) => s.rssMiB)),
        unit: 'MiB',
        reference: bareRss,
        note: "the node process only: the embedded Postgres' own processes are not counted",
      },
    ];
    return {
      section: 'startup',
      comparisons,
      notes: [
        `median of ${runs}; compiled = the service transpiled file by file (as test/support/compiled-service.ts), ` +
          'what `node dist/main.js` runs; jobs and event consumers on (production defaults), AWS endpoints at a sandbox ' +
          'in the bench process',
      ],
    };
  } finally {
    await sandbox.stop();
    await database.stop();
  }
}

runIfMain(module, run);
