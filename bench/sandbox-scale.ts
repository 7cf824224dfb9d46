import { DescribeInstancesCommand, EC2Client, Filter, paginateDescribeInstances } from '@aws-sdk/client-ec2';
import { startSandbox } from '../src/sandbox';
import { mib, percentiles, timed } from './support/measure';
import { BenchResult, Comparison, runIfMain } from './support/report';

/**
 * Sandbox at fleet scale: seeds 100,000 instances (quick: 10,000) into one region through the control
 * API, then pages DescribeInstances over them with the SDK paginator (MaxResults 1000), unfiltered and
 * filtered.
 *   npm run bench -- sandbox-scale [--quick]
 */
const REGION = 'us-east-1';

interface PagingResult {
  label: string;
  pages: number;
  instances: number;
  totalMs: number;
  pageMs: number[];
}

async function page(client: EC2Client, label: string, filters?: Filter[]): Promise<PagingResult> {
  const pageMs: number[] = [];
  const seen = new Set<string>();
  const start = performance.now();
  let last = start;
  for await (const p of paginateDescribeInstances({ client, pageSize: 1000 }, { Filters: filters })) {
    for (const r of p.Reservations ?? []) for (const i of r.Instances ?? []) seen.add(i.InstanceId!);
    const now = performance.now();
    pageMs.push(now - last);
    last = now;
  }
  return { label, pages: pageMs.length, instances: seen.size, totalMs: performance.now() - start, pageMs };
}

export async function run({ quick }: { quick: boolean }): Promise<BenchResult> {
  const count = quick ? 10_000 : 100_000;
  const sandbox = await startSandbox({ regions: [REGION] });
  const client = new EC2Client({
    region: REGION,
    endpoint: sandbox.endpoints.ec2,
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  try {
    const ours = Math.round(count * 0.8);
    const seeding = await timed(async () => {
      for (const [n, keyName, tags] of [
        [ours / 2, 'mgr:web:abc1234', { Owner: 'mgr' }],
        [ours / 2, 'mgr:build:abc1234', {}],
        [count - ours, 'other-manager:db:0000000', {}],
      ] as const) {
        const res = await fetch(`${sandbox.endpoints.control}/instances`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ region: REGION, count: n, keyName, tags, ageSeconds: 3600 }),
        });
        if (!res.ok) throw new Error(`seeding failed: ${res.status} ${await res.text()}`);
        await res.arrayBuffer();
      }
    });
    const heapMiB = mib(process.memoryUsage().heapUsed);

    const one = sandbox.control.state({ region: REGION, limit: 1 }).regions[REGION].instances![0].instanceId as string;
    const lookups = 200;
    const lookup = await timed(async () => {
      for (let i = 0; i < lookups; i++) await client.send(new DescribeInstancesCommand({ InstanceIds: [one] }));
    });

    const results = [
      await page(client, 'all instances'),
      await page(client, "key-name 'mgr:*' (80%)", [{ Name: 'key-name', Values: ['mgr:*'] }]),
      await page(client, 'key-name exact (40%, indexed)', [{ Name: 'key-name', Values: ['mgr:web:abc1234'] }]),
      await page(client, 'tag:Owner=mgr + running', [
        { Name: 'tag:Owner', Values: ['mgr'] },
        { Name: 'instance-state-name', Values: ['running'] },
      ]),
    ];
    const comparisons: Comparison[] = [
      {
        what: `seed ${count.toLocaleString('en-US')} instances via POST /_sandbox/instances`,
        value: seeding.ms / 1000,
        unit: 's',
        note: `heap after seeding ${Math.round(heapMiB)} MiB`,
      },
      { what: 'DescribeInstances by one instance id', value: lookup.ms / lookups, unit: 'ms per call' },
      ...results.map((r): Comparison => {
        const [p50, p95] = percentiles(r.pageMs, [50, 95]);
        return {
          what: `page ${r.label}: ${r.instances.toLocaleString('en-US')} in ${r.pages} pages`,
          value: r.totalMs / 1000,
          unit: 's',
          note: `per page p50 ${p50.toFixed(0)} ms, p95 ${p95.toFixed(0)} ms`,
        };
      }),
    ];
    return { section: 'sandbox-scale', comparisons, notes: [`node ${process.version}, one region`] };
  } finally {
    client.destroy();
    await sandbox.stop();
  }
}

runIfMain(module, run);
