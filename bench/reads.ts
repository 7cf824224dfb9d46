import 'reflect-metadata';
import { Client } from 'pg';
import { benchDatabase } from './support/database';
import { load, LoadResult, loadTogether } from './support/load';
import { progress, sleep } from './support/measure';
import { BenchResult, Comparison, runIfMain } from './support/report';
import { BENCH_API_CLIENTS, spawnCompiledService } from './support/service';

/**
 * The API's reads at fleet scale against `/v1/ping` (issue #15): requests per second and p50/p99 from
 * 50 connections (autocannon) of `workerTypeStats`, `listWorkerTypes` and `workerTypeState` for one
 * worker type with 10,000 instances, first when those are all the state holds, then among 100,000.
 * Stats and ping are loaded alone, then both at once (50 connections each).
 *
 * The service runs in its own process as production runs it (compiled `src/main.ts`, request logs at
 * `info` in JSON, read and dropped), with jobs and event consumers off so that only the reads run; the
 * load generator runs in this process. State is written straight into Postgres (the counts triggers
 * keep `worker_type_counts` as any writer would).
 *   npm run bench -- reads [--quick]
 */
const HOT = 'hot';
const CONNECTIONS = 50;

interface Scale {
  label: string;
  /** Instances of other worker types, beside the hot one's. */
  others: number;
}

/** `count` instances of `workerType` (80% running, 15% pending, 5% stopped, three instance types, four regions). */
async function seed(db: Client, workerType: string, count: number, offset: number): Promise<void> {
  await db.query(
    `INSERT INTO instances (region, id, worker_type, az, instance_type, state, spot_request_id, image_id, launched, last_event)
     SELECT (ARRAY['us-east-1','us-west-2','eu-west-1','eu-central-1'])[1 + n % 4],
            'i-' || lpad(to_hex(n), 17, '0'), $1, 'zone-a',
            (ARRAY['m5.large','c5.xlarge','m6i.2xlarge'])[1 + (n / 4) % 3],
            CASE WHEN n % 20 < 16 THEN 'running' WHEN n % 20 < 19 THEN 'pending' ELSE 'stopped' END,
            NULL, 'ami-0123456789abcdef0', now() - interval '1 hour', now() - interval '1 hour'
       FROM generate_series($2::bigint, $2::bigint + $3 - 1) AS n`,
    [workerType, offset, count],
  );
  await db.query(
    `INSERT INTO spot_requests (region, id, worker_type, az, instance_type, state, status, image_id, created)
     SELECT 'us-east-1', 'sir-' || lpad(to_hex(n), 8, '0'), $1, '', 'm5.large', 'open', 'pending-evaluation',
            'ami-0123456789abcdef0', now()
       FROM generate_series($2::bigint, $2::bigint + $3 / 100 - 1) AS n`,
    [workerType, offset, count],
  );
}

/** How long Postgres itself takes for a read's statement (EXPLAIN ANALYZE's execution time, ms). */
async function executionMs(db: Client, sql: string, params: unknown[]): Promise<number> {
  const { rows } = await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, FORMAT TEXT) ${sql}`, params);
  const line = rows.map((r) => r['QUERY PLAN']).find((l) => l.startsWith('Execution Time'));
  return Number(/([\d.]+) ms/.exec(line ?? '')?.[1] ?? NaN);
}

/** Sum and count of the service's own request-duration histogram, per route (from /metrics). */
async function serverSide(base: string): Promise<Map<string, { sum: number; count: number }>> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const out = new Map<string, { sum: number; count: number }>();
  for (const m of text.matchAll(/^ec2_manager_http_request_duration_seconds_(sum|count)\{([^}]*)\} (\S+)$/gm)) {
    const route = /route="([^"]*)"/.exec(m[2])?.[1] ?? '';
    const entry = out.get(route) ?? { sum: 0, count: 0 };
    entry[m[1] as 'sum' | 'count'] += Number(m[3]);
    out.set(route, entry);
  }
  return out;
}

/** Mean milliseconds the service itself took per request of `route` between two /metrics reads. */
function meanMs(before: Map<string, { sum: number; count: number }>, after: typeof before, route: string): number {
  const a = after.get(route) ?? { sum: 0, count: 0 };
  const b = before.get(route) ?? { sum: 0, count: 0 };
  return ((a.sum - b.sum) / Math.max(1, a.count - b.count)) * 1000;
}

/** The better of two runs (by requests/s): on a shared machine, the one less disturbed. */
const better = (a: LoadResult, b: LoadResult) => (b.rps > a.rps ? b : a);

const rps = (r: LoadResult) => ({ what: `${r.path} req/s`, value: r.rps, unit: 'req/s' });
const p99 = (r: LoadResult) => ({ what: `${r.path} p99`, value: r.p99Ms, unit: 'ms' });
const p50 = (r: LoadResult) => ({ what: `${r.path} p50`, value: r.p50Ms, unit: 'ms' });

function compare(scale: string, read: LoadResult, ping: LoadResult, how: string, targets: boolean): Comparison[] {
  const name = `${how}, ${scale}`;
  return [
    {
      ...rps(read),
      what: `${read.path} req/s (${name})`,
      reference: rps(ping),
      ...(targets ? { target: { ratio: 0.5, bound: 'min' } } : {}),
    },
    { ...p50(read), what: `${read.path} p50 (${name})`, reference: p50(ping) },
    {
      ...p99(read),
      what: `${read.path} p99 (${name})`,
      reference: p99(ping),
      ...(targets ? { target: { ratio: 2, bound: 'max' } } : {}),
    },
  ] as Comparison[];
}

export async function run({ quick }: { quick: boolean }): Promise<BenchResult> {
  const durationSeconds = quick ? 2 : 10;
  const hotCount = quick ? 1000 : 10_000;
  const scales: Scale[] = [
    { label: `${hotCount.toLocaleString('en-US')} of ${hotCount.toLocaleString('en-US')}`, others: 0 },
    {
      label: `${hotCount.toLocaleString('en-US')} of ${(hotCount * 10).toLocaleString('en-US')}`,
      others: hotCount * 9,
    },
  ];
  const database = await benchDatabase('reads');
  const db = new Client({ connectionString: database.url });
  await db.connect();
  const service = await spawnCompiledService({
    DATABASE_URL: database.url,
    DATA_DIR: '.data/bench-reads',
    SANDBOX_PORT: '0',
    SANDBOX_SQS_PORT: '0',
    REGIONS: 'us-east-1',
    MANAGER_ID: 'bench',
    LOG_FORMAT: 'json',
    EVENT_LISTENER_ENABLED: 'false',
    SPOT_POLL_ENABLED: 'false',
    HOUSEKEEPING_ENABLED: 'false',
    PRICING_ENABLED: 'false',
    TERMINATION_REASONS_ENABLED: 'false',
    API_CLIENTS: BENCH_API_CLIENTS,
  });
  const comparisons: Comparison[] = [];
  const notes: string[] = [];
  const options = { connections: CONNECTIONS, durationSeconds, timeoutSeconds: 60 };
  const failures: string[] = [];
  const checked = (results: LoadResult[]) => {
    for (const r of results) if (r.failures) failures.push(`${r.path}: ${r.failures} failed requests`);
    return results;
  };
  try {
    await seed(db, HOT, hotCount, 0);
    let seeded = hotCount;
    for (const scale of scales) {
      for (let w = 0; seeded < hotCount + scale.others; w++, seeded += hotCount) {
        await seed(db, `other-${w}`, hotCount, seeded);
      }
      await db.query('VACUUM ANALYZE instances, spot_requests, worker_type_counts');
      progress(`reads at ${scale.label} instances`);
      // Warm up (JIT, connection pool) before anything counts.
      await loadTogether(service.url, ['/v1/ping', `/v1/worker-types/${HOT}/stats`], {
        ...options,
        durationSeconds: 2,
      });
      await sleep(500);
      // Alone: ping and stats alternately, twice each, the better run of each counts.
      const statsPath = `/v1/worker-types/${HOT}/stats`;
      const alone: LoadResult[] = [];
      for (let i = 0; i < 2; i++) {
        alone.push(...checked([await load(service.url, '/v1/ping', options)]));
        alone.push(...checked([await load(service.url, statsPath, options)]));
      }
      const ping = better(alone[0], alone[2]);
      const stats = better(alone[1], alone[3]);
      const before = await serverSide(service.url);
      const [pingWith, statsWith] = checked(await loadTogether(service.url, ['/v1/ping', statsPath], options));
      const after = await serverSide(service.url);
      const [list] = checked([await load(service.url, '/v1/worker-types', options)]);
      const [state] = checked([await load(service.url, `/v1/worker-types/${HOT}/state`, options)]);
      comparisons.push(
        ...compare(scale.label, stats, ping, 'alone', true),
        ...compare(scale.label, statsWith, pingWith, 'together', true),
        ...compare(scale.label, list, ping, 'alone', false),
        ...compare(scale.label, state, ping, 'alone', false),
      );
      const statsSql = `SELECT kind, state, instance_type, sum(count) FROM worker_type_counts WHERE worker_type = $1
                         GROUP BY kind, state, instance_type HAVING sum(count) <> 0`;
      const stateSql = `SELECT * FROM instances WHERE worker_type = $1 ORDER BY region, id`;
      notes.push(
        `${scale.label}, together: the service's own mean time per request (its /metrics histogram) was ` +
          `${meanMs(before, after, '/v1/worker-types/:workerType/stats').toFixed(1)} ms for stats and ` +
          `${meanMs(before, after, '/v1/ping').toFixed(1)} ms for ping`,
        `${scale.label}: Postgres alone executes the stats statement in ${(await executionMs(db, statsSql, [HOT])).toFixed(2)} ms, ` +
          `the state's instance list in ${(await executionMs(db, stateSql, [HOT])).toFixed(1)} ms (EXPLAIN ANALYZE)`,
      );
    }
    if (failures.length) notes.push(`requests failed (the figures above are not valid): ${failures.join('; ')}`);
    notes.push(
      `${CONNECTIONS} connections per path, ${durationSeconds} s per run (alone: the better of two alternating runs), ` +
        'service in its own process with request logs at info',
      'together, stats is bound at about 0.5× ping by the event loop: with both closed loops saturating the one ' +
        'thread, a ping is answered in the turn that reads it, a stats request needs at least a second turn for ' +
        "Postgres' answer (plus Postgres' own wait for a CPU on the shared cores); requests of one turn share one " +
        'statement, so the pool is not the bound',
    );
    return { section: 'reads', comparisons, notes };
  } finally {
    await service.stop();
    await db.end();
    await database.stop();
  }
}

runIfMain(module, run);
