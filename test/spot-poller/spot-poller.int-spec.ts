import { keyPairNameFor } from '../../src/ec2/naming';
import { Ec2Clients } from '../../src/ec2/ec2-clients.service';
import { SpotPollError, SpotPoller } from '../../src/spot-poller/spot-poller.service';
import { CapacityCooldownRepository } from '../../src/state/capacity-cooldown.repository';
import { InstanceRepository } from '../../src/state/instance.repository';
import { JobRunRepository } from '../../src/state/job-run.repository';
import { SpotRequestRepository } from '../../src/state/spot-request.repository';
import { UsageRepository } from '../../src/state/usage.repository';
import request from 'supertest';
import { AppHarness, createAppHarness } from '../app-harness';
import { makeSpotRequest } from '../factories';
import { countCalls, waitFor } from '../jobs-support';

const REGION = 'us-east-1';
const WT = 'poller-wt';

describe('spot request poller (SPEC §5)', () => {
  let h: AppHarness;
  let poller: SpotPoller;
  let requests: SpotRequestRepository;
  let key: string;

  beforeAll(async () => {
    h = await createAppHarness({
      env: { SPOT_NOT_FOUND_GRACE_SECONDS: 1, CAPACITY_COOLDOWN_SECONDS: 600, AWS_MAX_ATTEMPTS: 2 },
      sandbox: { clockSpeed: 0, spotEvaluationSeconds: 2, seed: 7 },
    });
    poller = h.get(SpotPoller);
    requests = h.get(SpotRequestRepository);
    key = keyPairNameFor(h.config, WT);
  });
  afterAll(() => h.close());
  beforeEach(() => h.reset());

  /** Seeds requests in the sandbox and the same ids in state, as the API would have recorded them. */
  async function seed(input: {
    count: number;
    evaluate?: boolean;
    spotPrice?: string;
    zone?: string;
    instanceType?: string;
  }) {
    const { spotInstanceRequestIds } = h.sandbox.control.seedSpotRequests({
      region: REGION,
      keyName: key,
      instanceType: input.instanceType ?? 'm5.large',
      ...input,
    });
    await requests.upsertMany(
      spotInstanceRequestIds.map((id) =>
        makeSpotRequest({
          id,
          region: REGION,
          workerType: WT,
          az: input.zone ?? '',
          instanceType: input.instanceType ?? 'm5.large',
        }),
      ),
    );
    return spotInstanceRequestIds;
  }

  const sandboxRequest = (id: string) =>
    (h.sandbox.control.state({ region: REGION }).regions[REGION].spotRequests ?? []).find(
      (r) => r.spotInstanceRequestId === id,
    );

  it('should cancel a request whose bid is under the market (price-too-low) and forget it', async () => {
    h.sandbox.control.setPrice({ region: REGION, instanceType: 'm5.large', price: 1 });
    const [id] = await seed({ count: 1, evaluate: true, spotPrice: '0.01' });
    h.sandbox.control.setClock({ advanceSeconds: 3 });
    expect(sandboxRequest(id)).toMatchObject({ state: 'open', statusCode: 'price-too-low' });

    const outcome = await poller.pollOnce();

    expect(outcome.regions.find((r) => r.region === REGION)).toMatchObject({ polled: 1, cancelled: 1, cooldowns: 0 });
    expect(sandboxRequest(id)).toMatchObject({ state: 'cancelled' });
    expect(await requests.find(REGION, id)).toBeNull();
    expect(await h.get(CapacityCooldownRepository).active()).toEqual([]);

    // The provisioner can still see why its capacity never came.
    const health = await request(h.app.getHttpServer()).get(`/v1/worker-types/${WT}/health`).expect(200);
    expect(health.body.failedRequests).toEqual([
      expect.objectContaining({ region: REGION, id, instanceType: 'm5.large', state: 'open', status: 'price-too-low' }),
    ]);
  });

  it('should remove a fulfilled request from state and bring its instance in', async () => {
    const [id] = await seed({ count: 1, evaluate: true, spotPrice: '5' });
    h.sandbox.control.setClock({ advanceSeconds: 3 });
    const fulfilled = sandboxRequest(id)!;
    expect(fulfilled).toMatchObject({ state: 'active' });

    const outcome = await poller.pollOnce();

    expect(outcome.regions.find((r) => r.region === REGION)).toMatchObject({ removed: 1, adopted: 1, cancelled: 0 });
    expect(await requests.find(REGION, id)).toBeNull();
    expect(await h.get(InstanceRepository).find(REGION, fulfilled.instanceId as string)).toMatchObject({
      workerType: WT,
      spotRequestId: id,
      instanceType: 'm5.large',
    });
    expect(sandboxRequest(id)).toMatchObject({ state: 'active' });
    expect((await h.get(UsageRepository).listAmiUsage()).map((u) => [u.region, u.id])).toEqual([
      [REGION, h.sandbox.control.instance(fulfilled.instanceId as string)!.imageId],
    ]);
  });

  it('should cancel a request EC2 has no capacity for and put its pool in a cooldown', async () => {
    const zone = 'us-east-1b';
    h.sandbox.control.setCapacity({ region: REGION, zone, instanceType: 'c5.large', capacity: 0 });
    const [id] = await seed({ count: 1, evaluate: true, spotPrice: '5', zone, instanceType: 'c5.large' });
    h.sandbox.control.setClock({ advanceSeconds: 3 });
    expect(sandboxRequest(id)).toMatchObject({ state: 'open', statusCode: 'capacity-not-available' });

    await poller.pollOnce();

    expect(sandboxRequest(id)).toMatchObject({ state: 'cancelled' });
    expect(await requests.find(REGION, id)).toBeNull();
    const cooldowns = await h.get(CapacityCooldownRepository).active({ workerType: WT });
    expect(cooldowns).toHaveLength(1);
    expect(cooldowns[0]).toMatchObject({
      region: REGION,
      az: zone,
      instanceType: 'c5.large',
      reason: 'capacity-not-available',
      spotRequestId: id,
    });
    const seconds = (cooldowns[0].until.getTime() - Date.now()) / 1000;
    expect(seconds).toBeGreaterThan(500);
    expect(seconds).toBeLessThanOrEqual(600);
  });

  it('should poll 250 open requests in 3 describe calls and keep the ones still waiting', async () => {
    const ids = await seed({ count: 250 });
    const calls = countCalls(h.get(Ec2Clients).client(REGION));

    const outcome = await poller.pollOnce();

    expect(calls.counts.get('DescribeSpotInstanceRequests')).toBe(3);
    expect(calls.counts.get('CancelSpotInstanceRequests')).toBeUndefined();
    expect(outcome.regions.find((r) => r.region === REGION)).toMatchObject({ polled: 250, cancelled: 0, removed: 0 });
    expect((await requests.list({ region: REGION })).map((r) => r.id).sort()).toEqual([...ids].sort());
  });

  it('should refresh the status of a request still waiting', async () => {
    const [id] = await seed({ count: 1 });
    await h.dataSource.query(`UPDATE spot_requests SET status = 'pending-fulfillment' WHERE id = $1`, [id]);
    const outcome = await poller.pollOnce();
    expect(outcome.regions.find((r) => r.region === REGION)).toMatchObject({ updated: 1 });
    expect(await requests.find(REGION, id)).toMatchObject({ state: 'open', status: 'pending-evaluation' });
  });

  it('should find the unknown ids in a batch, keep them through the grace period, then remove them', async () => {
    const known = await seed({ count: 120 });
    const unknown = ['sir-zzzz0001', 'sir-zzzz0002', 'sir-zzzz0003'];
    await requests.upsertMany(unknown.map((id) => makeSpotRequest({ id, region: REGION, workerType: WT })));

    const first = await poller.pollOnce();
    expect(first.regions.find((r) => r.region === REGION)).toMatchObject({
      polled: 123,
      unknown: 3,
      removedUnknown: 0,
    });
    expect(await requests.list({ region: REGION, ids: unknown })).toHaveLength(3);

    await new Promise((r) => setTimeout(r, 1100));
    const second = await poller.pollOnce();
    expect(second.regions.find((r) => r.region === REGION)).toMatchObject({ unknown: 3, removedUnknown: 3 });
    expect(await requests.list({ region: REGION, ids: unknown })).toEqual([]);
    expect(await requests.list({ region: REGION, ids: known })).toHaveLength(120);
  });

  it('should report a failing region without throwing from the job, and record the failed run', async () => {
    await seed({ count: 2 });
    h.sandbox.control.setFaults({ throttle: { fraction: 1, actions: ['DescribeSpotInstanceRequests'] } });
    await expect(poller.pollOnce()).rejects.toBeInstanceOf(SpotPollError);

    const job = h.job('spot-poll');
    await expect(job.tick(true)).resolves.toBe('failed');
    expect(await h.get(JobRunRepository).find('spot-poll')).toMatchObject({ ok: false });
    h.sandbox.control.clearFaults();
    await expect(job.tick(true)).resolves.toBe('ran');
    expect(await h.get(JobRunRepository).find('spot-poll')).toMatchObject({ ok: true });
  });
});

describe('spot poll schedule', () => {
  let h: AppHarness;
  afterAll(() => h?.close());

  it('should fire on its own every SPOT_POLL_SECONDS and cancel what is stuck', async () => {
    h = await createAppHarness({
      env: { SPOT_POLL_ENABLED: true, SPOT_POLL_SECONDS: 1 },
      sandbox: { clockSpeed: 0 },
    });
    const requests = h.get(SpotRequestRepository);
    const { spotInstanceRequestIds } = h.sandbox.control.seedSpotRequests({
      region: REGION,
      count: 3,
      keyName: keyPairNameFor(h.config, WT),
      state: 'open',
      statusCode: 'bad-parameters',
    });
    // Seeded after the first tick may already have run: the next ones must find them.
    await requests.upsertMany(
      spotInstanceRequestIds.map((id) =>
        makeSpotRequest({ id, region: REGION, workerType: WT, status: 'pending-evaluation' }),
      ),
    );
    await waitFor(async () => (await requests.list({ region: REGION })).length === 0, 8000);
    // The run that removed them is recorded once it has finished the rest of its pass.
    await waitFor(() => h.job('spot-poll').history.length >= 1, 8000);
  });
});
