import { Test, TestingModule } from '@nestjs/testing';
import fc from 'fast-check';
import { Client } from 'pg';
import { EntityManager } from 'typeorm';
import { LaunchHealthService } from '../../src/api/launch-health.service';
import { WorkerTypesService } from '../../src/api/worker-types.service';
import { AppConfig } from '../../src/config/app-config';
import { ConfigModule } from '../../src/config/config.module';
import { StateModule } from '../../src/state/state.module';
import { HousekeepingRepository } from '../../src/state/housekeeping.repository';
import { InstanceRepository, NewInstance } from '../../src/state/instance.repository';
import { NewSpotRequest, SpotRequestRepository } from '../../src/state/spot-request.repository';
import { Tx } from '../../src/state/tx.service';
import { WorkerTypeCounts, WorkerTypeRepository } from '../../src/state/worker-type.repository';
import { makeInstance, makeSpotRequest } from '../factories';
import { createStateHarness, StateHarness } from '../state-harness';

const WORKER_TYPES = ['alpha', 'beta', 'gamma'];
const INSTANCE_TYPES = ['m5.large', 'c5.xlarge'];
const REGIONS = ['us-east-1', 'us-west-2'];
const INSTANCE_STATES = ['pending', 'running'] as const;
const EVENT_STATES = ['pending', 'running', 'stopping', 'shutting-down', 'terminated'];
const SPOT_STATES = ['open', 'active', 'cancelled', 'closed', 'failed'];
/** Ids per lane: a small space, so that operations keep meeting the same rows. */
const IDS = 5;
const T0 = Date.UTC(2026, 0, 1);

/** What SPEC §3 says the counts are, counted from the rows themselves: the ground truth. */
async function groundTruth(m: EntityManager, workerType: string): Promise<WorkerTypeCounts> {
  const rows: { bucket: 'pending' | 'running'; type: 'instance' | 'spot-request'; instanceType: string; n: number }[] =
    await m.query(
      `SELECT state AS bucket, 'instance' AS type, instance_type AS "instanceType", count(*)::int AS n
         FROM instances WHERE worker_type = $1 GROUP BY state, instance_type
       UNION ALL
       SELECT 'pending', 'spot-request', instance_type, count(*)::int
         FROM spot_requests WHERE worker_type = $1 AND state = 'open' GROUP BY instance_type
       ORDER BY 1, 2, 3`,
      [workerType],
    );
  const result: WorkerTypeCounts = { pending: [], running: [] };
  for (const r of rows) result[r.bucket].push({ instanceType: r.instanceType, count: r.n, type: r.type });
  return result;
}

/** Every key of the counts table against count(*), spot requests in every state included. */
async function expectCountsExact(h: StateHarness): Promise<void> {
  const m = h.dataSource.manager;
  const kept = await m.query(
    `SELECT worker_type, kind, state, instance_type, sum(count)::int AS n FROM worker_type_counts
     GROUP BY 1, 2, 3, 4 HAVING sum(count) <> 0 ORDER BY 1, 2, 3, 4`,
  );
  const counted = await m.query(
    `SELECT worker_type, 'instance' AS kind, state, instance_type, count(*)::int AS n FROM instances GROUP BY 1, 3, 4
     UNION ALL
     SELECT worker_type, 'spot-request', state, instance_type, count(*)::int FROM spot_requests GROUP BY 1, 3, 4
     ORDER BY 1, 2, 3, 4`,
  );
  expect(kept).toEqual(counted);
  const workerTypes = h.get(WorkerTypeRepository);
  for (const wt of [...WORKER_TYPES, 'nobody']) expect(await workerTypes.counts(wt)).toEqual(await groundTruth(m, wt));
  const listed: { wt: string }[] = await m.query(
    `SELECT worker_type AS wt FROM instances UNION SELECT worker_type FROM spot_requests ORDER BY 1`,
  );
  expect(await workerTypes.list()).toEqual(listed.map((r) => r.wt));
}

// ---- the writers, each as production calls it ----

const instanceRow = fc.record({
  n: fc.nat({ max: IDS - 1 }),
  region: fc.constantFrom(...REGIONS),
  workerType: fc.constantFrom(...WORKER_TYPES),
  instanceType: fc.constantFrom(...INSTANCE_TYPES),
  state: fc.constantFrom(...INSTANCE_STATES),
  second: fc.nat({ max: 5 }),
  fulfils: fc.option(fc.nat({ max: IDS - 1 }), { nil: null }),
});
type InstanceSpec = typeof instanceRow extends fc.Arbitrary<infer T> ? T : never;

const spotRow = fc.record({
  n: fc.nat({ max: IDS - 1 }),
  region: fc.constantFrom(...REGIONS),
  workerType: fc.constantFrom(...WORKER_TYPES),
  instanceType: fc.constantFrom(...INSTANCE_TYPES),
  state: fc.constantFrom(...SPOT_STATES),
});
type SpotSpec = typeof spotRow extends fc.Arbitrary<infer T> ? T : never;

/** One writer call. Ops of one step run at once, each in its own lane of ids, so they share no row. */
const laneOp = fc.oneof(
  fc.record({ op: fc.constant('upsert-instances' as const), rows: fc.array(instanceRow, { maxLength: 4 }) }),
  fc.record({
    op: fc.constant('event' as const),
    n: fc.nat({ max: IDS - 1 }),
    region: fc.constantFrom(...REGIONS),
    state: fc.constantFrom(...EVENT_STATES),
    second: fc.nat({ max: 5 }),
  }),
  fc.record({ op: fc.constant('remove-instances' as const), ns: fc.array(fc.nat({ max: IDS - 1 }), { maxLength: 3 }) }),
  fc.record({ op: fc.constant('upsert-spot' as const), rows: fc.array(spotRow, { maxLength: 4 }) }),
  fc.record({
    op: fc.constant('spot-status' as const),
    ns: fc.array(fc.nat({ max: IDS - 1 }), { maxLength: 3 }),
    state: fc.constantFrom(...SPOT_STATES),
  }),
  fc.record({ op: fc.constant('remove-spot' as const), ns: fc.array(fc.nat({ max: IDS - 1 }), { maxLength: 3 }) }),
);
type LaneOp = typeof laneOp extends fc.Arbitrary<infer T> ? T : never;

const step = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('lanes' as const), ops: fc.array(fc.record({ op: laneOp, rollback: fc.boolean() }), { minLength: 1, maxLength: 3 }) }) }, // prettier-ignore
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('sweep' as const),
      region: fc.constantFrom(...REGIONS),
      instances: fc.array(instanceRow, { maxLength: 6 }),
      spots: fc.array(spotRow, { maxLength: 4 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('truncate' as const),
      table: fc.constantFrom('every table', 'instances', 'spot_requests'),
    }),
  },
);

class RolledBack extends Error {}

describe('worker type counts kept by the database', () => {
  let h: StateHarness;

  beforeAll(async () => (h = await createStateHarness()));
  beforeEach(() => h.truncate());
  afterAll(() => h.close());

  const instanceId = (lane: number, n: number) => `i-${lane}${n.toString().padStart(16, '0')}`;
  const spotId = (lane: number, n: number) => `sir-${lane}${n}`;
  const toInstance = (lane: number, r: InstanceSpec): NewInstance =>
    makeInstance({
      id: instanceId(lane, r.n),
      region: r.region,
      workerType: r.workerType,
      instanceType: r.instanceType,
      state: r.state,
      spotRequestId: r.fulfils === null ? null : spotId(lane, r.fulfils),
      launched: new Date(T0),
      lastEvent: new Date(T0 + r.second * 1000),
    });
  const toSpot = (lane: number, r: SpotSpec): NewSpotRequest =>
    makeSpotRequest({
      id: spotId(lane, r.n),
      region: r.region,
      workerType: r.workerType,
      instanceType: r.instanceType,
      state: r.state,
      created: new Date(T0),
    });
  /** Rows of one call are unique by key, as the callers' are (EC2 lists an id once). */
  const unique = <R extends { region: string; id: string }>(rows: R[]): R[] => [
    ...new Map(rows.map((r) => [`${r.region}/${r.id}`, r])).values(),
  ];

  async function runLaneOp(lane: number, o: LaneOp, m: EntityManager): Promise<void> {
    const instances = h.get(InstanceRepository);
    const requests = h.get(SpotRequestRepository);
    switch (o.op) {
      case 'upsert-instances':
        return instances.upsertMany(unique(o.rows.map((r) => toInstance(lane, r))), m);
      case 'event': {
        const id = instanceId(lane, o.n);
        await instances.lockForEvents(o.region, id, m);
        const outcome = await instances.applyEvent(o.region, id, o.state, new Date(T0 + o.second * 1000), m);
        if (outcome === 'absent' && !['pending', 'running'].includes(o.state)) await instances.remove(o.region, id, m);
        return;
      }
      case 'remove-instances':
        for (const region of REGIONS)
          await instances.removeMany(
            region,
            o.ns.map((n) => instanceId(lane, n)),
            m,
          );
        return;
      case 'upsert-spot':
        return requests.upsertMany(unique(o.rows.map((r) => toSpot(lane, r))), m);
      case 'spot-status':
        for (const region of REGIONS) {
          await requests.updateStatuses(
            region,
            o.ns.map((n) => ({ id: spotId(lane, n), state: o.state, status: `status-of-${o.state}` })),
            m,
          );
        }
        return;
      case 'remove-spot':
        for (const region of REGIONS)
          await requests.removeMany(
            region,
            o.ns.map((n) => spotId(lane, n)),
            m,
          );
        return;
    }
  }

  it('match count(*) after any mix of writers, concurrent sessions, rollbacks, sweeps and truncations', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 10 }), async (steps) => {
        await h.truncate();
        for (const s of steps) {
          if (s.kind === 'lanes') {
            await Promise.all(
              s.ops.map(({ op, rollback }, lane) =>
                h
                  .get(Tx)
                  .run(async (m) => {
                    await runLaneOp(lane, op, m);
                    if (rollback) throw new RolledBack();
                  })
                  .catch((err: unknown) => {
                    if (!(err instanceof RolledBack)) throw err;
                  }),
              ),
            );
          } else if (s.kind === 'sweep') {
            const housekeeping = h.get(HousekeepingRepository);
            const sweep = { start: await housekeeping.now(), describeLagGraceSeconds: 0 };
            const inRegion = <R extends { region: string }>(rows: R[]) => rows.filter((r) => r.region === s.region);
            await h
              .get(Tx)
              .run((m) =>
                housekeeping.reconcileInstances(
                  s.region,
                  unique(inRegion(s.instances.map((r) => toInstance(0, r)))),
                  sweep,
                  m,
                ),
              );
            await h
              .get(Tx)
              .run((m) =>
                housekeeping.reconcileSpotRequests(
                  s.region,
                  unique(inRegion(s.spots.map((r) => ({ ...toSpot(0, r), state: 'open' })))),
                  sweep,
                  m,
                ),
              );
          } else if (s.table === 'every table') {
            await h.truncate();
          } else {
            // Alone, without the counts table: its TRUNCATE trigger must forget the table's counts.
            await h.dataSource.query(`TRUNCATE ${s.table} CASCADE`);
          }
          await expectCountsExact(h);
        }
      }),
      { numRuns: 20 },
    );
  });

  it('lets concurrent transactions on one worker type and instance type commit without waiting on each other', async () => {
    const ids = Array.from({ length: 6 }, (_, i) => `i-${i}`);
    await h
      .get(InstanceRepository)
      .upsertMany(ids.map((id) => makeInstance({ id, state: 'pending', lastEvent: new Date(T0) })));
    // Each transaction counts its change, then waits until all the others have counted theirs before any
    // commits: with one counter row per key, the second would wait for the first to commit, forever.
    let arrived = 0;
    let release!: () => void;
    const allArrived = new Promise<void>((resolve) => (release = resolve));
    await Promise.all(
      ids.map((id) =>
        h.get(Tx).run(async (m) => {
          await h.get(InstanceRepository).applyEvent('us-east-1', id, 'running', new Date(T0 + 1000), m);
          if (++arrived === ids.length) release();
          await allArrived;
        }),
      ),
    );
    expect(await h.get(WorkerTypeRepository).counts('builder')).toEqual({
      pending: [],
      running: [{ instanceType: 'm5.large', count: ids.length, type: 'instance' }],
    });
    await expectCountsExact(h);
  });

  it('count a session whose first counted change was rolled back (its slot kept) like any other', async () => {
    const runner = h.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      await h.get(InstanceRepository).upsert(makeInstance({ id: 'i-rolled-back' }), runner.manager);
      await runner.rollbackTransaction();
      await h.get(InstanceRepository).upsert(makeInstance({ id: 'i-kept', state: 'running' }), runner.manager);
      const [held]: { n: number }[] = await runner.query(
        `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND objsubid = 2`,
      );
      expect(held.n).toBe(1);
    } finally {
      await runner.release();
    }
    await expectCountsExact(h);
    expect((await h.get(WorkerTypeRepository).counts('builder')).running).toEqual([
      { instanceType: 'm5.large', count: 1, type: 'instance' },
    ]);
  });
});

describe("a worker type's state", () => {
  let h: StateHarness;
  let module: TestingModule;

  beforeAll(async () => {
    h = await createStateHarness();
    module = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot(AppConfig.forTest({ DATABASE_URL: h.db.url, RUN_MIGRATIONS: false })),
        StateModule,
      ],
      providers: [WorkerTypesService, LaunchHealthService],
    }).compile();
    await module.init();
  });
  afterAll(async () => {
    await module.close();
    await h.close();
  });

  it('is read on one snapshot: a request fulfilled between its two lists is in exactly one of them', async () => {
    await h.get(SpotRequestRepository).upsert(makeSpotRequest({ id: 'sir-1' }));
    // The fulfilment commits while the read waits for the spot_requests table, after it read the instances.
    const writer = new Client({ connectionString: h.db.url });
    await writer.connect();
    try {
      await writer.query('BEGIN');
      await writer.query('LOCK TABLE spot_requests IN ACCESS EXCLUSIVE MODE');
      const read = module.get(WorkerTypesService).state('builder');
      for (;;) {
        const [waiting]: { n: number }[] = (
          await writer.query(
            `SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted AND relation = 'spot_requests'::regclass`,
          )
        ).rows;
        if (waiting.n > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await writer.query(
        `INSERT INTO instances (region, id, worker_type, az, instance_type, state, spot_request_id, image_id,
                                launched, last_event)
         VALUES ('us-east-1', 'i-1', 'builder', 'us-east-1a', 'm5.large', 'running', 'sir-1', 'ami-1', now(), now())`,
      );
      await writer.query(`DELETE FROM spot_requests WHERE id = 'sir-1'`);
      await writer.query('COMMIT');
      const { instances, requests } = await read;
      expect([...instances.map((i) => i.id), ...requests.map((r) => r.id)]).toHaveLength(1);
    } finally {
      await writer.end();
    }
  });
});
