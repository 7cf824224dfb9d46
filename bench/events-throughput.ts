import 'reflect-metadata';
import { EC2Client, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { NestFactory } from '@nestjs/core';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { AppModule } from '../src/app.module';
import { keyPairNameFor, resourceTags } from '../src/ec2/naming';
import { AppConfig } from '../src/config/app-config';
import { resolveDatabase } from '../src/database';
import { EventCounters } from '../src/event-listener/event-counters.service';
import { startSandbox } from '../src/sandbox';
import { createDataSource } from '../src/state/data-source';
import { emptyTables } from '../test/support/tables';

/**
 * Event throughput: a queue pre-filled with N state-change events, drained by the service's consumers
 * into Postgres, against the raw single-row upsert rate of the same Postgres measured in the same run.
 *   npx ts-node --transpile-only bench/events-throughput.ts [count=5000]
 * Uses DATABASE_URL when set, else an embedded Postgres in .data/bench-events (created on first use).
 */
const REGION = 'us-east-1';
const COUNT = Number(process.argv[2] ?? 5000);

const quiet = () => undefined;

const total = (counters: EventCounters) => Object.values(counters.snapshot().handled).reduce((a, b) => a + b, 0);

async function until(read: () => Promise<number>, target: number): Promise<void> {
  while ((await read()) < target) await new Promise((resolve) => setTimeout(resolve, 20));
}

function rate(n: number, ms: number): string {
  return `${n} in ${(ms / 1000).toFixed(2)} s = ${Math.round((n / ms) * 1000)} /s`;
}

/** Single-row upserts into a scratch copy of `instances`, one at a time and ten at a time. */
async function rawUpserts(url: string, n: number, concurrency: number): Promise<number> {
  const clients = await Promise.all(
    Array.from({ length: concurrency }, async () => {
      const c = new Client({ connectionString: url });
      await c.connect();
      return c;
    }),
  );
  await clients[0].query(`DROP TABLE IF EXISTS bench_upserts`);
  await clients[0].query(`CREATE TABLE bench_upserts (LIKE instances INCLUDING ALL)`);
  let next = 0;
  const start = performance.now();
  await Promise.all(
    clients.map(async (c) => {
      for (let i = next++; i < n; i = next++) {
        await c.query(
          `INSERT INTO bench_upserts (region, id, worker_type, az, instance_type, state, spot_request_id, image_id,
                                      launched, last_event, touched)
           VALUES ($1, $2, 'bench', 'us-east-1a', 'm5.large', 'running', NULL, 'ami-0123456789abcdef0', now(), now(), now())
           ON CONFLICT (region, id) DO UPDATE SET state = EXCLUDED.state, last_event = EXCLUDED.last_event`,
          [REGION, `i-${i.toString(16).padStart(17, '0')}`],
        );
      }
    }),
  );
  const ms = performance.now() - start;
  await clients[0].query(`DROP TABLE bench_upserts`);
  await Promise.all(clients.map((c) => c.end()));
  return ms;
}

async function main(): Promise<void> {
  const base = AppConfig.fromEnv({
    ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
    DATA_DIR: '.data/bench-events',
    REGIONS: REGION,
    MANAGER_ID: 'bench',
    LOG_LEVEL: 'error',
    SQS_WAIT_TIME_SECONDS: '1',
    SPOT_POLL_ENABLED: 'false',
    HOUSEKEEPING_ENABLED: 'false',
    PRICING_ENABLED: 'false',
  });
  const database = await resolveDatabase(base, quiet);
  const url = database.config.databaseUrl!;
  const migrations = createDataSource(url, 1);
  await migrations.initialize();
  await migrations.runMigrations({ transaction: 'each' });
  await emptyTables(migrations);
  await migrations.destroy();

  const sandbox = await startSandbox({ regions: [REGION], clockSpeed: 0, shuttingDownSeconds: 1 });
  const config = database.config.withEndpoints(sandbox.endpoints);
  // Creating the app runs setup (queues, rules); its consumers start only with init().
  let app = await NestFactory.create(AppModule.forRoot(config), { logger: false });
  const counters = app.get(EventCounters);
  const db = new Client({ connectionString: url });
  await db.connect();
  const rows = async () => Number((await db.query(`SELECT count(*) AS n FROM instances`)).rows[0].n);
  try {
    const { instanceIds } = sandbox.control.seedInstances({
      region: REGION,
      count: COUNT,
      keyName: keyPairNameFor(config, 'bench'),
      tags: Object.fromEntries(resourceTags(config.managerId, 'bench').map((t) => [t.Key, t.Value])),
      emitEvents: true,
    });
    await sandbox.control.flushEvents();

    // 1. New instances: each event is a DescribeInstances, then the row, its AMI use and event log.
    let start = performance.now();
    await app.init();
    await until(rows, COUNT);
    const adoptMs = performance.now() - start;

    // 2. Known instances leaving: shutting-down and terminated events, two per instance, no EC2 call.
    // The queue is filled while no consumer runs, then a fresh service drains it.
    await app.close();
    // A receive cut short at close may still be answered by the emulator's long poll (1 s here): let it lapse,
    // or it would take messages that then wait out their visibility timeout.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    sandbox.control.setClock({ advanceSeconds: 1 });
    const client = new EC2Client({
      region: REGION,
      endpoint: sandbox.endpoints.ec2,
      credentials: { accessKeyId: 'AKIABENCH', secretAccessKey: 'bench' },
    });
    for (let i = 0; i < instanceIds.length; i += 1000) {
      await client.send(new TerminateInstancesCommand({ InstanceIds: instanceIds.slice(i, i + 1000) }));
    }
    client.destroy();
    sandbox.control.setClock({ advanceSeconds: 2 });
    await sandbox.control.flushEvents();
    app = await NestFactory.create(AppModule.forRoot(config), { logger: false });
    const counters2 = app.get(EventCounters);
    start = performance.now();
    await app.init();
    await until(() => Promise.resolve(total(counters2)), 2 * COUNT);
    const removeMs = performance.now() - start;

    const raw1 = await rawUpserts(url, COUNT, 1);
    const raw10 = await rawUpserts(url, COUNT, 10);

    const line = (label: string, value: string) => process.stdout.write(`${label.padEnd(58)} ${value}\n`);
    line('state-change events, new instances (describe + insert)', rate(COUNT, adoptMs));
    line('state-change events, known instances leaving (no EC2)', rate(2 * COUNT, removeMs));
    line('raw single-row upserts, 1 connection', rate(COUNT, raw1));
    line('raw single-row upserts, 10 connections', rate(COUNT, raw10));
    line('outcomes', JSON.stringify({ ...counters.snapshot().handled, ...counters2.snapshot().handled }));
  } finally {
    await db.end();
    await app.close();
    await sandbox.stop();
    await database.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
