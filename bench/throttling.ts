import 'reflect-metadata';
import { launchExamples } from '../src/api/launch/launch-examples';
import { Metrics } from '../src/metrics/metrics.service';
import { startSandbox } from '../src/sandbox';
import { benchDatabase } from './support/database';
import { percentile, progress, sleep } from './support/measure';
import { BenchResult, runIfMain } from './support/report';
import { authorized, benchConfig, startHttpService } from './support/service';

/**
 * Launch latency under EC2 throttling (issue #11): `count` on-demand launches through the API, all at
 * once as a provisioner's burst, first with EC2 answering every call, then with the sandbox answering
 * `fraction` of all EC2 calls RequestLimitExceeded. The service runs as production wires it (AppModule,
 * AWS's default client-side buckets, our retry strategy), the sandbox and an embedded Postgres in the
 * same process.
 *   npm run bench -- throttling [--quick]     (count 100, quick 10; fraction 0.3)
 * A launch answered 503 is asked again with the same ClientToken after its Retry-After, as a provisioner
 * does; its latency runs from the first ask to the 204.
 */
const REGION = 'us-east-1';
const FRACTION = 0.3;
const WT = 'builder';

interface Run {
  latenciesMs: number[];
  wallMs: number;
  retried503: number;
  failed: string[];
  throttled: number;
}

async function counter(metrics: Metrics, name: 'ec2Throttled', operation?: string): Promise<number> {
  const values: { labels: Record<string, string | number | undefined>; value: number }[] = (await metrics[name].get())
    .values;
  return values
    .filter((v) => operation === undefined || v.labels.operation === operation)
    .reduce((n, v) => n + v.value, 0);
}

async function burst(
  base: string,
  count: number,
  label: string,
  metrics: Metrics,
  body: (n: number) => object,
): Promise<Run> {
  const throttledBefore = await counter(metrics, 'ec2Throttled');
  const run: Run = { latenciesMs: [], wallMs: 0, retried503: 0, failed: [], throttled: 0 };
  const start = performance.now();
  await Promise.all(
    Array.from({ length: count }, async (_, n) => {
      const t0 = performance.now();
      for (;;) {
        const res = await fetch(`${base}/v1/worker-types/${WT}/instance`, {
          method: 'PUT',
          headers: { ...authorized, 'Content-Type': 'application/json' },
          body: JSON.stringify(body(n)),
        });
        const text = await res.text();
        if (res.status === 204) break;
        if (res.status === 503) {
          run.retried503++;
          await sleep(Number(res.headers.get('retry-after') ?? 1) * 1000);
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
  progress(`${label}: done in ${(run.wallMs / 1000).toFixed(1)} s`);
  return run;
}

const sorted = (run: Run) => [...run.latenciesMs].sort((a, b) => a - b);
const seconds = (run: Run, p: number) => percentile(sorted(run), p) / 1000;

export async function run({ quick }: { quick: boolean }): Promise<BenchResult> {
  const count = quick ? 10 : 100;
  const database = await benchDatabase('throttling');
  const sandbox = await startSandbox({ regions: [REGION], seed: 11 });
  const service = await startHttpService(benchConfig(database.url).withEndpoints(sandbox.endpoints));
  const metrics = service.app.get(Metrics);
  try {
    const key = await fetch(`${service.url}/v1/worker-types/${WT}/key-pair`, { headers: authorized });
    if (key.status !== 200) throw new Error(`ensureKeyPair: ${key.status} ${await key.text()}`);
    const example = launchExamples(benchConfig(database.url)).onDemand;
    const body = (phase: string) => (n: number) => ({ ...example, ClientToken: `bench-${phase}-${n}` });

    const clear = await burst(service.url, count, 'unthrottled', metrics, body('clear'));
    // Let the request buckets refill so both bursts start alike (resource tokens: 1000, plenty for both).
    await sleep(5000);
    sandbox.control.setFaults({ throttle: { fraction: FRACTION } });
    const throttled = await burst(service.url, count, 'throttled', metrics, body('throttled'));
    sandbox.control.clearFaults();
    const failed = [...clear.failed, ...throttled.failed];
    const what = (run: Run, label: string, p: number) => ({
      what: `launch latency p${p}, ${label}`,
      value: seconds(run, p),
      unit: 's',
    });
    const pct = `${FRACTION * 100} % throttled`;
    return {
      section: 'throttling',
      comparisons: [
        { ...what(throttled, pct, 50), reference: what(clear, 'unthrottled', 50) },
        {
          ...what(throttled, pct, 99),
          reference: what(clear, 'unthrottled', 99),
          target: { ratio: 5, bound: 'max' },
          note:
            `${count} launches at once; ${throttled.throttled} calls throttled by the sandbox; 503 answers asked again ` +
            `after Retry-After: ${clear.retried503} unthrottled, ${throttled.retried503} throttled (a call that would wait ` +
            'longer than EC2_RATE_LIMIT_MAX_WAIT_MS, 5 s, at the client-side bucket is refused at once); both bursts are ' +
            "paced by EC2's RunInstances bucket (5, +2/s), two calls per launch (DryRun, then the launch)",
        },
      ],
      notes: failed.length ? [`${failed.length} launches failed: ${failed.slice(0, 3).join('; ')}`] : [],
    };
  } finally {
    await service.close();
    await sandbox.stop();
    await database.stop();
  }
}

runIfMain(module, run);
