import { Tx } from '../../src/state/tx.service';
import { InstanceRepository } from '../../src/state/instance.repository';
import { OnDemandPriceRepository } from '../../src/state/on-demand-price.repository';
import { SpotPriceRepository } from '../../src/state/spot-price.repository';
import { AppHarness } from '../app-harness';
import { makeInstance } from '../factories';
import { api, createApiHarness } from './support';

/** SPEC §12 read endpoints: what they answer and what they refuse. */
describe('insight API', () => {
  let h: AppHarness;

  beforeAll(async () => {
    h = await createApiHarness();
  });
  afterAll(() => h.close());
  beforeEach(() => h.reset());

  describe('listTerminations', () => {
    it('pages newest first with a cursor, filters by since, counts per reason', async () => {
      const instances = h.get(InstanceRepository);
      const rows = Array.from({ length: 5 }, (_, n) =>
        makeInstance({ workerType: 'builder', id: `i-0000000000000000${n}` }),
      );
      await instances.upsertMany([...rows, makeInstance({ workerType: 'other' })]);
      for (const [n, r] of rows.entries()) {
        const cause = { reason: n < 2 ? ('zombie' as const) : undefined, at: new Date(Date.UTC(2026, 0, 1 + n)) };
        await h.get(Tx).run((m) => instances.removeWithCause(r.region, [r.id], cause, m));
      }
      const first = await api(h).get('/v1/worker-types/builder/terminations?limit=3').expect(200);
      expect(first.body.terminations.map((t: { instanceId: string }) => t.instanceId)).toEqual([
        rows[4].id,
        rows[3].id,
        rows[2].id,
      ]);
      expect(first.body.counts).toEqual([
        { reason: 'unresolved', count: 3 },
        { reason: 'zombie', count: 2 },
      ]);
      expect(first.body.terminations[0]).toMatchObject({
        reason: 'unresolved',
        lifecycle: 'on-demand',
        az: 'us-east-1a',
      });
      const second = await api(h)
        .get(`/v1/worker-types/builder/terminations?limit=3&cursor=${first.body.nextCursor}`)
        .expect(200);
      expect(second.body.terminations.map((t: { reason: string }) => t.reason)).toEqual(['zombie', 'zombie']);
      expect(second.body.nextCursor).toBeNull();

      const since = await api(h).get('/v1/worker-types/builder/terminations?since=2026-01-04T00:00:00Z').expect(200);
      expect(since.body.terminations).toHaveLength(2);
      expect(since.body.counts).toEqual([{ reason: 'unresolved', count: 2 }]);
    });

    it.each([
      ['since=yesterday', 'since'],
      ['limit=0', 'limit'],
      ['limit=abc', 'limit'],
      ['cursor=bm90LWEtY3Vyc29y', 'cursor'],
      ['cursor=a%20b', 'cursor'],
      ['colour=red', 'colour'],
    ])('refuses %s with a 400 naming %s', async (query, path) => {
      const res = await api(h).get(`/v1/worker-types/builder/terminations?${query}`).expect(400);
      expect(res.body).toMatchObject({ code: 'InputError' });
      expect(res.body.details.reasons.map((r: { path: string }) => r.path)).toContain(path);
    });
  });

  describe('workerTypeCost', () => {
    it('prices each instance in state at its pool and spreads ended ones over the days they ran', async () => {
      const now = new Date();
      await h
        .get(SpotPriceRepository)
        .replaceRegion(
          'us-east-1',
          [{ region: 'us-east-1', zone: 'us-east-1a', instanceType: 'm5.large', price: 0.05 }],
          now,
          h.dataSource.manager,
        );
      await h
        .get(OnDemandPriceRepository)
        .replaceRegion(
          'us-east-1',
          [{ region: 'us-east-1', instanceType: 'c5.large', price: 0.1 }],
          now,
          h.dataSource.manager,
        );
      const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
      const instances = h.get(InstanceRepository);
      const ended = makeInstance({ spotRequestId: 'sir-0', launched: new Date(midnight - 26 * 3600_000) });
      await instances.upsertMany([
        ended,
        makeInstance({ spotRequestId: 'sir-1' }),
        makeInstance({ spotRequestId: 'sir-2' }),
        makeInstance({ instanceType: 'c5.large' }),
        makeInstance({ instanceType: 't3.micro' }),
        makeInstance({ workerType: 'other', instanceType: 'c5.large' }),
      ]);
      await h
        .get(Tx)
        .run((m) => instances.removeWithCause(ended.region, [ended.id], { at: new Date(midnight - 22 * 3600_000) }, m));

      const res = await api(h).get('/v1/worker-types/builder/cost').expect(200);
      expect(res.body).toMatchObject({
        workerType: 'builder',
        currency: 'USD',
        unpricedInstances: 1,
        retentionDays: 14,
      });
      expect(res.body.ratePerHour).toBeCloseTo(0.2, 10);
      expect(res.body.pools).toEqual(
        expect.arrayContaining([
          {
            region: 'us-east-1',
            az: 'us-east-1a',
            instanceType: 'm5.large',
            lifecycle: 'spot',
            count: 2,
            hourlyPrice: 0.05,
            ratePerHour: 0.1,
          },
          {
            region: 'us-east-1',
            az: 'us-east-1a',
            instanceType: 't3.micro',
            lifecycle: 'on-demand',
            count: 1,
            hourlyPrice: null,
            ratePerHour: 0,
          },
        ]),
      );
      const days: { day: string; cost: number }[] = res.body.days;
      expect(days).toHaveLength(14);
      const day = (offset: number) => new Date(midnight + offset * 86400_000).toISOString().slice(0, 10);
      expect(days[13].day).toBe(day(0));
      expect(days[11]).toEqual({ day: day(-2), cost: expect.closeTo(0.1, 10) });
      expect(days[12]).toEqual({ day: day(-1), cost: expect.closeTo(0.1, 10) });
      expect(days[13].cost).toBeGreaterThan(0);
      expect(days.slice(0, 11).every((d) => d.cost === 0)).toBe(true);

      const metrics = (await api(h).get('/metrics').expect(200)).text;
      expect(metrics).toMatch(/^ec2_manager_worker_type_hourly_cost_dollars\{worker_type="builder"\} 0\.2\d*$/m);
      // It ended yesterday: not in the last hour.
      expect(metrics).toMatch(/^# TYPE ec2_manager_recent_terminations gauge$/m);
      expect(metrics).not.toMatch(/^ec2_manager_recent_terminations\{/m);
      expect(metrics).toMatch(/^ec2_manager_job_interval_seconds\{job="housekeeping"\} 3600$/m);
    });

    it('refuses a malformed worker type', async () => {
      await api(h).get('/v1/worker-types/a:b/cost').expect(400);
    });
  });
});
