import { launchExamples } from '../../src/api/launch/launch-examples';
import { keyPairNameFor } from '../../src/ec2/naming';
import { HousekeepingService } from '../../src/housekeeping/housekeeping.service';
import { OnDemandPrices } from '../../src/pricing/on-demand-prices.service';
import { PricingPoller } from '../../src/pricing/pricing-poller.service';
import { api, API_CLIENTS, bearer, TOKENS } from '../api/support';
import { createEventsHarness, EventsHarness, REGION, waitFor } from '../event-listener/support';

const WT = 'builder';
const admin = bearer(TOKENS.admin);
const HOUR = 3600;

/**
 * SPEC §12 done: in the sandbox, after launches (one failing for capacity), a spot interruption, an API
 * termination and a zombie kill, the insight endpoints and /metrics say what happened and why.
 */
describe('operator insight, end to end in the sandbox', () => {
  let h: EventsHarness;

  beforeAll(async () => {
    h = await createEventsHarness({ env: { API_CLIENTS, MAX_INSTANCE_LIFE_HOURS: 96 } });
  });
  afterAll(() => h.close());

  it('shows launches, why instances ended, what the worker type costs, in the API and the metrics', async () => {
    const examples = launchExamples(h.config);
    const spec = { ImageId: 'ami-0123456789abcdef0', InstanceType: 'm5.large', KeyName: keyPairNameFor(h.config, WT) };
    const run = (token: string, zone: string, requestType: 'on-demand' | 'spot') =>
      api(h)
        .put(`/v1/worker-types/${WT}/instance`)
        .set(admin)
        .send({
          ...examples.onDemand,
          ClientToken: token,
          RequestType: requestType,
          LaunchInfo: { ...spec, Placement: { AvailabilityZone: zone } },
        });
    const instanceIds = async () => (await h.instances.list({ workerType: WT })).map((i) => i.id).sort();

    await api(h).get(`/v1/worker-types/${WT}/key-pair`).set(admin).expect(200);
    await h.get(PricingPoller).pollOnce();
    await h.get(OnDemandPrices).fetchOnce();

    // Launches: two on-demand, one spot, and one where EC2 has no on-demand capacity.
    h.sandbox.control.setCapacity({
      region: REGION,
      zone: `${REGION}b`,
      instanceType: 'm5.large',
      lifecycle: 'on-demand',
      capacity: 0,
    });
    await run('insight-od-1', `${REGION}a`, 'on-demand').expect(204);
    await run('insight-od-2', `${REGION}a`, 'on-demand').expect(204);
    const beforeSpot = await instanceIds();
    await run('insight-spot-1', `${REGION}a`, 'spot').expect(204);
    const failed = await run('insight-od-full', `${REGION}b`, 'on-demand');
    expect(failed.status).toBeGreaterThanOrEqual(400);
    const spot = (await instanceIds()).find((id) => !beforeSpot.includes(id))!;
    const [terminated, kept] = beforeSpot;
    await h.advance(10);

    // A spot interruption: the warning, then EC2 ends it two minutes later.
    h.sandbox.control.interrupt(spot);
    await h.sandbox.control.flushEvents();
    await waitFor(
      async () => (await api(h).get(`/v1/worker-types/${WT}/health`).expect(200)).body.terminationNotices.length,
      (n) => n === 1,
    );
    await h.advance(130);

    // An API termination, and a zombie housekeeping kills (EC2 has it, state never did).
    await api(h).delete(`/v1/region/${REGION}/instance/${terminated}`).set(admin).expect(200);
    const zombie = h.sandbox.control.seedInstances({
      region: REGION,
      count: 1,
      keyName: spec.KeyName,
      ageSeconds: 100 * HOUR,
    }).instanceIds[0];
    await h.get(HousekeepingService).sweepRegion(REGION);
    await h.sandbox.control.flushEvents();

    const reasons = await waitFor(
      async () => {
        const res = await api(h).get(`/v1/worker-types/${WT}/terminations`).expect(200);
        return Object.fromEntries(
          (res.body.terminations as { instanceId: string; reason: string }[]).map((t) => [t.instanceId, t.reason]),
        );
      },
      (r) => r[spot] === 'spot-interruption' && r[terminated] === 'terminate-instance' && r[zombie] === 'zombie',
    );
    expect(reasons[kept]).toBeUndefined();

    const health = (await api(h).get(`/v1/worker-types/${WT}/health`).expect(200)).body;
    const pool = (az: string, lifecycle: string, outcome: string) =>
      health.launches.find(
        (l: { az: string; lifecycle: string; outcome: string; instanceType: string }) =>
          l.az === az && l.lifecycle === lifecycle && l.outcome === outcome && l.instanceType === 'm5.large',
      );
    expect(pool(`${REGION}a`, 'on-demand', 'success')).toMatchObject({ lastHour: 2, lastDay: 2, attemptsLastDay: 2 });
    expect(pool(`${REGION}a`, 'spot', 'success')).toMatchObject({ lastHour: 1, lastDay: 1 });
    expect(pool(`${REGION}b`, 'on-demand', 'insufficient-capacity')).toMatchObject({ lastHour: 1, lastDay: 1 });
    expect(health.lastErrors).toEqual([
      expect.objectContaining({
        az: `${REGION}b`,
        endpoint: 'instance',
        outcome: 'insufficient-capacity',
        code: 'InsufficientInstanceCapacity',
        message: expect.stringContaining('m5.large'),
      }),
    ]);
    const all = (await api(h).get('/v1/launch-health').expect(200)).body;
    expect(all.launches.filter((l: { workerType: string }) => l.workerType === WT)).toHaveLength(3);
    expect(all.lastErrors[0]).toMatchObject({ workerType: WT, outcome: 'insufficient-capacity' });

    const cost = (await api(h).get(`/v1/worker-types/${WT}/cost`).expect(200)).body;
    expect(cost.ratePerHour).toBeGreaterThan(0);
    expect(cost.unpricedInstances).toBe(0);
    expect(cost.pools).toEqual([
      expect.objectContaining({ az: `${REGION}a`, instanceType: 'm5.large', lifecycle: 'on-demand', count: 1 }),
    ]);

    const prices = (await api(h).get('/v1/prices').expect(200)).body as { type: string }[];
    expect(prices.some((p) => p.type === 'on-demand')).toBe(true);

    const metrics = (await api(h).get('/metrics').expect(200)).text;
    for (const reason of ['spot-interruption', 'terminate-instance', 'zombie']) {
      expect(metrics).toMatch(
        new RegExp(`^ec2_manager_recent_terminations\\{worker_type="${WT}",reason="${reason}"\\} 1$`, 'm'),
      );
    }
    expect(metrics).toMatch(
      /^ec2_manager_recent_launches\{worker_type="builder",outcome="insufficient-capacity"\} 1$/m,
    );
    expect(metrics).toMatch(/^ec2_manager_recent_launches\{worker_type="builder",outcome="success"\} 3$/m);
    const rate = /^ec2_manager_worker_type_hourly_cost_dollars\{worker_type="builder"\} (\S+)$/m.exec(metrics);
    expect(Number(rate?.[1])).toBeCloseTo(cost.ratePerHour, 10);
    expect(metrics).toMatch(
      /^ec2_manager_worker_type_capacity\{worker_type="builder",state="running",kind="instance"\} 1$/m,
    );
  });
});
