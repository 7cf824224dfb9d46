import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createHash } from 'node:crypto';
import { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { EXAMPLE_IMAGE_ID, launchExamples } from '../src/api/launch/launch-examples';
import { AppModule } from '../src/app.module';
import { AppConfig } from '../src/config/app-config';
import { configureApp, HTTP_APP_OPTIONS } from '../src/configure-app';
import { resolveDatabase } from '../src/database';
import { keyPairNameFor } from '../src/ec2/naming';
import { startSandbox } from '../src/sandbox';
import { createDataSource } from '../src/state/data-source';
import { InstanceRepository } from '../src/state/instance.repository';
import { emptyTables } from '../test/support/tables';

/**
 * Time until `count` instances of one worker type are in state (issue #13): through one launchFleet call
 * (Count `count`, on-demand over three instance types), then through `count` runInstance calls, 20
 * in flight at a time, as a provisioner without fleets would. The service runs as production wires it (AppModule, AWS's
 * default client-side rate limits: RunInstances' request bucket holds 5 and refills at 2 per second, and
 * each runInstance asks RunInstances twice, DryRun first), with the sandbox and an embedded Postgres in
 * the same process.
 *   npm run bench -- bench/fleet.ts [count=1000]
 * A call answered 503 is asked again with the same ClientToken after its Retry-After; time runs from the
 * first call until the worker type has `count` instances in state.
 */
const REGION = 'us-east-1';
const COUNT = Number(process.argv[2] ?? 1000);
const TOKEN = 'bench-token-0123456789';
/** runInstance calls in flight at once. */
const IN_FLIGHT = 20;

const quiet = () => undefined;

async function call(base: string, method: string, path: string, body: object): Promise<void> {
  for (;;) {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status === 200 || res.status === 204) return;
    if (res.status !== 503) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    await new Promise((r) => setTimeout(r, Number(res.headers.get('retry-after') ?? 1) * 1000));
  }
}

async function inState(instances: InstanceRepository, workerType: string): Promise<number> {
  return (await instances.list({ workerType })).length;
}

async function timeUntilInState(
  instances: InstanceRepository,
  workerType: string,
  launch: () => Promise<void>,
): Promise<{ ms: number }> {
  const start = performance.now();
  let done = false;
  const launching = launch().finally(() => (done = true));
  let progress = performance.now();
  while (!done || (await inState(instances, workerType)) < COUNT) {
    if (done && (await inState(instances, workerType)) < COUNT) {
      throw new Error(`${workerType}: launches done, ${await inState(instances, workerType)} of ${COUNT} in state`);
    }
    await new Promise((r) => setTimeout(r, 250));
    if (performance.now() - progress > 30_000) {
      progress = performance.now();
      process.stdout.write(
        `  ${workerType}: ${await inState(instances, workerType)} in state after ${((progress - start) / 1000).toFixed(0)} s\n`,
      );
    }
  }
  await launching;
  return { ms: performance.now() - start };
}

async function main(): Promise<void> {
  const sandbox = await startSandbox({ regions: [REGION], seed: 13, clockSpeed: 0 });
  const base = AppConfig.fromEnv({
    ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
    DATA_DIR: '.data/bench-fleet',
    REGIONS: REGION,
    MANAGER_ID: 'bench',
    LOG_LEVEL: 'error',
    EVENT_LISTENER_ENABLED: 'false',
    SPOT_POLL_ENABLED: 'false',
    HOUSEKEEPING_ENABLED: 'false',
    PRICING_ENABLED: 'false',
    API_CLIENTS: JSON.stringify([
      { clientId: 'bench', tokenSha256: createHash('sha256').update(TOKEN).digest('hex'), scopes: ['ec2-manager:*'] },
    ]),
  });
  const database = await resolveDatabase(base, quiet);
  const url = database.config.databaseUrl!;
  const migrations = createDataSource(url, 1);
  await migrations.initialize();
  await migrations.runMigrations({ transaction: 'each' });
  await emptyTables(migrations);
  await migrations.destroy();

  const config = database.config.withEndpoints(sandbox.endpoints);
  const app = configureApp(
    await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), { ...HTTP_APP_OPTIONS, logger: false }),
  );
  await app.listen(0, '127.0.0.1');
  const api = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  const instances = app.get(InstanceRepository);
  try {
    for (const wt of ['via-fleet', 'via-run-instance']) {
      const key = await fetch(`${api}/v1/worker-types/${wt}/key-pair`, {
        headers: { Authorization: `Bearer ${TOKEN}` },
      });
      if (key.status !== 200) throw new Error(`ensureKeyPair: ${key.status} ${await key.text()}`);
    }
    process.stdout.write(
      `${COUNT} on-demand instances of one worker type, through launchFleet, then through runInstance\n`,
    );

    const fleet = await timeUntilInState(instances, 'via-fleet', () =>
      call(api, 'POST', '/v1/worker-types/via-fleet/fleet', {
        ClientToken: 'bench-fleet',
        Region: REGION,
        Count: COUNT,
        Capacity: 'on-demand',
        Candidates: [{ InstanceType: 'm5.large' }, { InstanceType: 'c5.large' }, { InstanceType: 'm6i.large' }],
        LaunchSpecification: { ImageId: EXAMPLE_IMAGE_ID, KeyName: keyPairNameFor(config, 'via-fleet') },
      }),
    );
    process.stdout.write(`  launchFleet: ${(fleet.ms / 1000).toFixed(2)} s\n`);

    const example = launchExamples(config).onDemand;
    const runs = await timeUntilInState(instances, 'via-run-instance', async () => {
      // A provisioner keeps a few calls in flight, not a thousand: each waits its turn at the RunInstances
      // bucket, and a call held longer than the HTTP server's request timeout (5 min) would be cut.
      let next = 0;
      await Promise.all(
        Array.from({ length: IN_FLIGHT }, async () => {
          for (let n = next++; n < COUNT; n = next++) {
            await call(api, 'PUT', '/v1/worker-types/via-run-instance/instance', {
              ...example,
              ClientToken: `bench-run-${n}`,
              LaunchInfo: { ...example.LaunchInfo, KeyName: keyPairNameFor(config, 'via-run-instance') },
            });
          }
        }),
      );
    });
    process.stdout.write(`  runInstance × ${COUNT}: ${(runs.ms / 1000).toFixed(1)} s\n`);
    console.table([
      { path: 'launchFleet (1 call)', instances: COUNT, 'seconds until in state': (fleet.ms / 1000).toFixed(2) },
      { path: `runInstance (${COUNT} calls)`, instances: COUNT, 'seconds until in state': (runs.ms / 1000).toFixed(1) },
    ]);
    process.stdout.write(`runInstance / launchFleet: ${(runs.ms / fleet.ms).toFixed(0)}×\n`);
  } finally {
    await app.close();
    await sandbox.stop();
    await database.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
