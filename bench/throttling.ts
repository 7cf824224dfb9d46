import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createHash } from 'node:crypto';
import { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { launchExamples } from '../src/api/launch/launch-examples';
import { AppModule } from '../src/app.module';
import { AppConfig } from '../src/config/app-config';
import { configureApp, HTTP_APP_OPTIONS } from '../src/configure-app';
import { resolveDatabase } from '../src/database';
import { Metrics } from '../src/metrics/metrics.service';
import { startSandbox } from '../src/sandbox';
import { createDataSource } from '../src/state/data-source';
import { emptyTables } from '../test/support/tables';

/**
 * Launch latency under EC2 throttling (issue #11): `count` on-demand launches through the API, all at
 * once as a provisioner's burst, first with EC2 answering every call, then with the sandbox answering
 * `fraction` of all EC2 calls RequestLimitExceeded. The service runs as production wires it (AppModule,
 * AWS's default client-side buckets, our retry strategy), the sandbox and an embedded Postgres in the
 * same process.
 *   npm run bench -- bench/throttling.ts [count=100] [fraction=0.3]
 * A launch answered 503 is asked again with the same ClientToken after its Retry-After, as a provisioner
 * does; its latency runs from the first ask to the 204.
 */
const REGION = 'us-east-1';
const COUNT = Number(process.argv[2] ?? 100);
const FRACTION = Number(process.argv[3] ?? 0.3);
const TOKEN = 'bench-token-0123456789';
const WT = 'builder';

interface Run {
  latenciesMs: number[];
  wallMs: number;
  retried503: number;
  failed: string[];
  ec2Attempts: number;
  throttled: number;
}

const quiet = () => undefined;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function counter(metrics: Metrics, name: 'awsCalls' | 'ec2Throttled', operation?: string): Promise<number> {
  const values: { labels: Record<string, string | number | undefined>; value: number }[] = (await metrics[name].get())
    .values;
  return values
    .filter((v) => operation === undefined || v.labels.operation === operation)
    .reduce((n, v) => n + v.value, 0);
}

async function burst(base: string, label: string, metrics: Metrics, body: (n: number) => object): Promise<Run> {
  const throttledBefore = await counter(metrics, 'ec2Throttled');
  const callsBefore = await counter(metrics, 'awsCalls', 'RunInstances');
  const run: Run = { latenciesMs: [], wallMs: 0, retried503: 0, failed: [], ec2Attempts: 0, throttled: 0 };
  const start = performance.now();
  await Promise.all(
    Array.from({ length: COUNT }, async (_, n) => {
      const t0 = performance.now();
      for (;;) {
        const res = await fetch(`${base}/v1/worker-types/${WT}/instance`, {
          method: 'PUT',
          headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
          body: JSON.stringify(body(n)),
        });
        const text = await res.text();
        if (res.status === 204) break;
        if (res.status === 503) {
          run.retried503++;
          await new Promise((r) => setTimeout(r, Number(res.headers.get('retry-after') ?? 1) * 1000));
          continue;
        }
        run.failed.push(`${res.status} ${text}`);
        return;
      }
      run.latenciesMs.push(performance.now() - t0);
    }),
  );
  run.wallMs = performance.now() - start;
  run.throttled = (await counter(metrics, 'ec2Throttled')) - throttledBefore;
  // awsCalls counts each call once, after its retries: the attempts are calls plus throttled retries.
  run.ec2Attempts = (await counter(metrics, 'awsCalls', 'RunInstances')) - callsBefore + run.throttled;
  process.stdout.write(`  ${label}: done in ${(run.wallMs / 1000).toFixed(1)} s\n`);
  return run;
}

function report(label: string, run: Run): Record<string, string | number> {
  const sorted = [...run.latenciesMs].sort((a, b) => a - b);
  const s = (ms: number) => (ms / 1000).toFixed(2);
  return {
    run: label,
    launched: sorted.length,
    'wall s': s(run.wallMs),
    'p50 s': s(percentile(sorted, 50)),
    'p95 s': s(percentile(sorted, 95)),
    'p99 s': s(percentile(sorted, 99)),
    'max s': s(sorted[sorted.length - 1]),
    'EC2 attempts': run.ec2Attempts,
    throttled: run.throttled,
    '503 retried': run.retried503,
    failed: run.failed.length,
  };
}

async function main(): Promise<void> {
  const sandbox = await startSandbox({ regions: [REGION], seed: 11 });
  const base = AppConfig.fromEnv({
    ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
    DATA_DIR: '.data/bench-throttling',
    REGIONS: REGION,
    MANAGER_ID: 'bench',
    LOG_LEVEL: 'error',
    EVENT_LISTENER_ENABLED: 'false',
    SPOT_POLL_ENABLED: 'false',
    HOUSEKEEPING_ENABLED: 'false',
    PRICING_ENABLED: 'false',
    API_CLIENTS: JSON.stringify([
      {
        clientId: 'bench',
        tokenSha256: createHash('sha256').update(TOKEN).digest('hex'),
        scopes: ['ec2-manager:*'],
      },
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
  const apiBase = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  const metrics = app.get(Metrics);
  try {
    const key = await fetch(`${apiBase}/v1/worker-types/${WT}/key-pair`, {
      headers: { Authorization: `Bearer ${TOKEN}` },
    });
    if (key.status !== 200) throw new Error(`ensureKeyPair: ${key.status} ${await key.text()}`);
    const example = launchExamples(config).onDemand;
    const body = (phase: string) => (n: number) => ({ ...example, ClientToken: `bench-${phase}-${n}` });

    process.stdout.write(`${COUNT} on-demand launches at once, then the same with ${FRACTION * 100} % throttling\n`);
    const clear = await burst(apiBase, 'unthrottled', metrics, body('clear'));
    // Let the request buckets refill so both bursts start alike (resource tokens: 1000, plenty for both).
    await new Promise((r) => setTimeout(r, 5000));
    sandbox.control.setFaults({ throttle: { fraction: FRACTION } });
    const throttled = await burst(apiBase, 'throttled', metrics, body('throttled'));
    sandbox.control.clearFaults();

    console.table([report('unthrottled', clear), report(`${FRACTION * 100} % throttled`, throttled)]);
    const ratio = (p: number) =>
      percentile(
        [...throttled.latenciesMs].sort((a, b) => a - b),
        p,
      ) /
      percentile(
        [...clear.latenciesMs].sort((a, b) => a - b),
        p,
      );
    process.stdout.write(`throttled / unthrottled: p50 ${ratio(50).toFixed(2)}×, p99 ${ratio(99).toFixed(2)}×\n`);
    for (const f of [...clear.failed, ...throttled.failed].slice(0, 5)) process.stdout.write(`failed: ${f}\n`);
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
