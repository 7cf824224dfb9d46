import 'reflect-metadata';
import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { keyPairName, resourceTags } from '../src/ec2/naming';
import { AppConfig } from '../src/config/app-config';
import { ConfigModule } from '../src/config/config.module';
import { HousekeepingModule } from '../src/housekeeping/housekeeping.module';
import { HousekeepingService } from '../src/housekeeping/housekeeping.service';
import { MetricsModule } from '../src/metrics/metrics.module';
import { Sandbox, startSandbox } from '../src/sandbox';
import { createDataSource } from '../src/state/data-source';
import { RunningPostgres, startEmbeddedPostgres } from '../src/state/embedded-postgres';
import { InstanceRepository, NewInstance } from '../src/state/instance.repository';
import { NewSpotRequest, SpotRequestRepository } from '../src/state/spot-request.repository';
import { emptyTables } from '../test/support/tables';

/**
 * One housekeeping sweep (SPEC §6) over 8 regions at fleet scale: 100,000 instances and 20,000 open
 * spot requests in the sandbox, half of each missing from state, plus 1% zombies and 5% extraneous
 * rows; then the same at a tenth of the size. Everything in one process: the sandbox, the service's
 * housekeeping (real AWS SDK over loopback HTTP) and an embedded Postgres (or DATABASE_URL's server).
 *   npx ts-node --transpile-only bench/housekeeping.ts [instances=100000] [requests=20000]
 */
const REGIONS = [
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
  'eu-west-1',
  'eu-central-1',
  'ap-south-1',
  'sa-east-1',
];
const MANAGER = 'bench-mgr';
const PUBKEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGJlbmNoLWtleS1mb3ItaG91c2VrZWVwaW5nLWJlbmNobWFyaw bench';
const WORKER_TYPES = ['web', 'build', 'test', 'gpu'];

async function database(): Promise<{ url: string; stop(): Promise<void> }> {
  let server: RunningPostgres | undefined;
  let dir: string | undefined;
  let admin = process.env.DATABASE_URL;
  if (!admin) {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ec2m-bench-pg-'));
    fs.chmodSync(dir, 0o755);
    server = await startEmbeddedPostgres({ dataDir: dir, ephemeral: true });
    admin = server.url;
  }
  const name = `ec2m_bench_${process.pid}`;
  const c = new Client({ connectionString: admin });
  await c.connect();
  await c.query(`CREATE DATABASE ${name}`);
  await c.end();
  const u = new URL(admin);
  u.pathname = `/${name}`;
  const ds = createDataSource(u.toString(), 1);
  await ds.initialize();
  await ds.runMigrations();
  await ds.destroy();
  return {
    url: u.toString(),
    async stop() {
      const d = new Client({ connectionString: admin });
      await d.connect();
      await d.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await d.end();
      await server?.stop();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

interface Size {
  instances: number;
  requests: number;
}

async function seed(
  sandbox: Sandbox,
  app: INestApplicationContext,
  size: Size,
): Promise<{ seedMs: number; stateMs: number }> {
  const t0 = performance.now();
  const perRegion = Math.floor(size.instances / REGIONS.length);
  const requestsPerRegion = Math.floor(size.requests / REGIONS.length);
  const instanceRows: NewInstance[] = [];
  const requestRows: NewSpotRequest[] = [];
  for (const region of REGIONS) {
    for (const [w, workerType] of WORKER_TYPES.entries()) {
      const keyName = keyPairName(MANAGER, workerType, PUBKEY);
      const tags = Object.fromEntries(resourceTags(MANAGER, workerType).map((t) => [t.Key, t.Value]));
      const count = Math.floor(perRegion / WORKER_TYPES.length);
      const zombies = Math.floor(count / 100);
      const { instanceIds } = sandbox.control.seedInstances({
        region,
        count: count - zombies,
        keyName,
        tags,
        ageSeconds: 3600,
      });
      const { instanceIds: zombieIds } = sandbox.control.seedInstances({
        region,
        count: zombies || 1,
        keyName,
        tags,
        ageSeconds: 200 * 3600,
      });
      const { spotInstanceRequestIds } = sandbox.control.seedSpotRequests({
        region,
        count: Math.floor(requestsPerRegion / WORKER_TYPES.length),
        keyName,
        tags,
      });
      const now = new Date();
      // Half of everything is already in state: the other half is "missing" for the sweep to add.
      for (const id of [...instanceIds, ...zombieIds].filter((_, i) => i % 2 === 0)) {
        instanceRows.push({
          region, id, workerType, az: `${region}a`, instanceType: 'm5.large', state: 'running', spotRequestId: null,
          imageId: 'ami-0123456789abcdef0', launched: now, lastEvent: now,
        }); // prettier-ignore
      }
      for (const id of spotInstanceRequestIds.filter((_, i) => i % 2 === 0)) {
        requestRows.push({
          region, id, workerType, az: '', instanceType: 'm5.large', state: 'open', status: 'pending-evaluation',
          imageId: 'ami-0123456789abcdef0', created: now,
        }); // prettier-ignore
      }
      // 5% extraneous rows: in state, long gone from EC2.
      for (let i = 0; i < Math.floor(count / 20); i++) {
        instanceRows.push({
          region, id: `i-${(w * 1e9 + i).toString(16).padStart(17, 'f')}`, workerType, az: `${region}a`,
          instanceType: 'm5.large', state: 'running', spotRequestId: null, imageId: 'ami-0123456789abcdef0',
          launched: now, lastEvent: now,
        }); // prettier-ignore
      }
    }
  }
  const seedMs = performance.now() - t0;
  const t1 = performance.now();
  const instances = app.get(InstanceRepository);
  const requests = app.get(SpotRequestRepository);
  for (let i = 0; i < instanceRows.length; i += 10_000) await instances.upsertMany(instanceRows.slice(i, i + 10_000));
  for (let i = 0; i < requestRows.length; i += 10_000) await requests.upsertMany(requestRows.slice(i, i + 10_000));
  return { seedMs, stateMs: performance.now() - t1 };
}

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function run(size: Size, sandbox: Sandbox, app: INestApplicationContext): Promise<void> {
  await sandbox.control.reset();
  await emptyTables(app.get(DataSource));
  const { seedMs, stateMs } = await seed(sandbox, app, size);
  const hk = app.get(HousekeepingService);
  const t = performance.now();
  const first = await hk.runOnce();
  const firstMs = performance.now() - t;
  const t2 = performance.now();
  const second = await hk.runOnce();
  const secondMs = performance.now() - t2;
  const sum = (
    o: typeof first,
    k: 'missingInstances' | 'missingSpotRequests' | 'extraneousInstances' | 'zombiesKilled' | 'tagged',
  ) => o.regions.reduce((n, r) => n + r[k], 0);
  const [inState] = await app.get(DataSource).query(`SELECT count(*)::int AS n FROM instances`);
  console.log(
    JSON.stringify({
      size,
      seedSandbox: s(seedMs),
      seedState: s(stateMs),
      firstSweep: s(firstMs),
      slowestRegion: s(Math.max(...first.regions.map((r) => r.durationMs))),
      missingInstances: sum(first, 'missingInstances'),
      missingSpotRequests: sum(first, 'missingSpotRequests'),
      extraneousInstances: sum(first, 'extraneousInstances'),
      zombiesKilled: sum(first, 'zombiesKilled'),
      secondSweep: s(secondMs),
      secondMissing: sum(second, 'missingInstances') + sum(second, 'missingSpotRequests'),
      instancesInState: inState.n,
      heapMiB: Math.round(process.memoryUsage().heapUsed / 2 ** 20),
    }),
  );
}

async function main(): Promise<void> {
  const full: Size = { instances: Number(process.argv[2] ?? 100_000), requests: Number(process.argv[3] ?? 20_000) };
  const db = await database();
  const sandbox = await startSandbox({ regions: REGIONS, clockSpeed: 0 });
  const config = AppConfig.forTest({
    DATABASE_URL: db.url,
    RUN_MIGRATIONS: false,
    REGIONS: REGIONS.join(','),
    MANAGER_ID: MANAGER,
    INSTANCE_PUBKEY: PUBKEY,
    EC2_ENDPOINT: sandbox.endpoints.ec2,
    SQS_ENDPOINT: sandbox.endpoints.sqs,
    EVENTS_ENDPOINT: sandbox.endpoints.events,
    LOG_LEVEL: 'warn',
    AWS_TIMEOUT_MS: 120000,
  }).withJobsDisabled();
  const app = await NestFactory.createApplicationContext(
    {
      module: class BenchModule {},
      imports: [ConfigModule.forRoot(config), ScheduleModule.forRoot(), MetricsModule, HousekeepingModule],
    },
    { logger: ['error'] },
  );
  try {
    await run({ instances: full.instances / 10, requests: full.requests / 10 }, sandbox, app);
    await run(full, sandbox, app);
  } finally {
    await app.close();
    await sandbox.stop();
    await db.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
