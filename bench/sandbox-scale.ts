import { DescribeInstancesCommand, EC2Client, Filter, paginateDescribeInstances } from '@aws-sdk/client-ec2';
import { performance } from 'node:perf_hooks';
import { startSandbox } from '../src/sandbox';

/**
 * Sandbox at fleet scale: seeds 100,000 instances into one region through the control API, then pages
 * DescribeInstances over them with the SDK paginator (MaxResults 1000), unfiltered and filtered.
 *   npx ts-node --transpile-only bench/sandbox-scale.ts [count]
 */
const REGION = 'us-east-1';
const COUNT = Number(process.argv[2] ?? 100_000);

interface PagingResult {
  label: string;
  pages: number;
  instances: number;
  totalMs: number;
  pageMs: number[];
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
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

async function main(): Promise<void> {
  const sandbox = await startSandbox({ regions: [REGION] });
  const client = new EC2Client({
    region: REGION,
    endpoint: sandbox.endpoints.ec2,
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  try {
    const ours = Math.round(COUNT * 0.8);
    const seedStart = performance.now();
    for (const [count, keyName, tags] of [
      [ours / 2, 'mgr:web:abc1234', { Owner: 'mgr' }],
      [ours / 2, 'mgr:build:abc1234', {}],
      [COUNT - ours, 'other-manager:db:0000000', {}],
    ] as const) {
      const res = await fetch(`${sandbox.endpoints.control}/instances`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ region: REGION, count, keyName, tags, ageSeconds: 3600 }),
      });
      if (!res.ok) throw new Error(`seeding failed: ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
    }
    const seedMs = performance.now() - seedStart;
    const heapMb = process.memoryUsage().heapUsed / 2 ** 20;

    const one = sandbox.control.state({ region: REGION, limit: 1 }).regions[REGION].instances![0].instanceId as string;
    const lookupStart = performance.now();
    const lookups = 200;
    for (let i = 0; i < lookups; i++) await client.send(new DescribeInstancesCommand({ InstanceIds: [one] }));
    const lookupMs = (performance.now() - lookupStart) / lookups;

    const results = [
      await page(client, 'all instances'),
      await page(client, "key-name 'mgr:*' (80%)", [{ Name: 'key-name', Values: ['mgr:*'] }]),
      await page(client, 'key-name exact (40%, indexed)', [{ Name: 'key-name', Values: ['mgr:web:abc1234'] }]),
      await page(client, 'tag:Owner=mgr + running', [
        { Name: 'tag:Owner', Values: ['mgr'] },
        { Name: 'instance-state-name', Values: ['running'] },
      ]),
    ];

    console.log(`node ${process.version}, ${COUNT.toLocaleString('en')} instances in ${REGION}`);
    console.log(
      `seed via POST /_sandbox/instances: ${seedMs.toFixed(0)} ms (${((COUNT / seedMs) * 1000).toFixed(0)} instances/s), heap ${heapMb.toFixed(0)} MiB`,
    );
    console.log(`DescribeInstances by id (${lookups} calls): ${lookupMs.toFixed(2)} ms/call`);
    console.log('paginateDescribeInstances, MaxResults 1000:');
    for (const r of results) {
      const sorted = [...r.pageMs].sort((a, b) => a - b);
      console.log(
        `  ${r.label.padEnd(32)} ${String(r.instances).padStart(7)} instances, ${String(r.pages).padStart(3)} pages, ` +
          `${r.totalMs.toFixed(0).padStart(6)} ms total, per page p50 ${percentile(sorted, 50).toFixed(1)} / ` +
          `p95 ${percentile(sorted, 95).toFixed(1)} / max ${sorted[sorted.length - 1].toFixed(1)} ms`,
      );
    }
  } finally {
    client.destroy();
    await sandbox.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
