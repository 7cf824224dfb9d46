import { Tx } from '../../src/state/tx.service';
import { AppHarness } from '../app-harness';
import { makeInstance, makeSpotRequest } from '../factories';
import { InstanceRepository } from '../../src/state/instance.repository';
import { SpotRequestRepository } from '../../src/state/spot-request.repository';
import { TerminationNoticeRepository } from '../../src/state/termination-notice.repository';
import { UsageRepository } from '../../src/state/usage.repository';
import { api, bearer, createApiHarness, TOKENS } from './support';

describe('API reads', () => {
  let h: AppHarness;
  beforeAll(async () => {
    h = await createApiHarness();
  });
  afterAll(() => h.close());
  beforeEach(() => h.reset());

  it('answers ping', async () => {
    const res = await api(h).get('/v1/ping').expect(200);
    expect(res.body.alive).toBe(true);
    expect(res.headers['x-request-id']).toBeTruthy();
  });

  it('lists worker types with any instance or request, sorted', async () => {
    await h.get(InstanceRepository).upsert(makeInstance({ workerType: 'zeta' }));
    await h.get(SpotRequestRepository).upsert(makeSpotRequest({ workerType: 'alpha' }));
    await h.get(InstanceRepository).upsert(makeInstance({ workerType: 'alpha' }));
    await api(h).get('/v1/worker-types').expect(200, ['alpha', 'zeta']);
  });

  it('counts pending and running capacity of a worker type', async () => {
    const instances = h.get(InstanceRepository);
    await instances.upsert(makeInstance({ state: 'running', instanceType: 'm5.large' }));
    await instances.upsert(makeInstance({ state: 'running', instanceType: 'm5.large' }));
    await instances.upsert(makeInstance({ state: 'pending', instanceType: 'c5.large' }));
    await instances.upsert(makeInstance({ state: 'running', workerType: 'other' }));
    await h.get(SpotRequestRepository).upsert(makeSpotRequest({ instanceType: 'c5.large' }));
    const res = await api(h).get('/v1/worker-types/builder/stats').expect(200);
    expect(res.body).toEqual({
      pending: [
        { instanceType: 'c5.large', count: 1, type: 'instance' },
        { instanceType: 'c5.large', count: 1, type: 'spot-request' },
      ],
      running: [{ instanceType: 'm5.large', count: 2, type: 'instance' }],
    });
    await api(h).get('/v1/worker-types/nobody/stats').expect(200, { pending: [], running: [] });
  });

  it('shows the state and health of a worker type', async () => {
    const instance = makeInstance({ state: 'running' });
    const req = makeSpotRequest();
    await h.get(InstanceRepository).upsert(instance);
    await h.get(InstanceRepository).upsert(makeInstance({ workerType: 'other' }));
    await h.get(SpotRequestRepository).upsert(req);
    const state = await api(h).get('/v1/worker-types/builder/state').expect(200);
    expect(state.body.instances.map((i: { id: string }) => i.id)).toEqual([instance.id]);
    expect(state.body.instances[0]).toMatchObject({ region: 'us-east-1', state: 'running', imageId: instance.imageId });
    expect(state.body.requests.map((r: { id: string }) => r.id)).toEqual([req.id]);
    // Every field, and each timestamp, as the rows read through the repositories serialize.
    expect(state.body).toEqual(
      JSON.parse(
        JSON.stringify({
          instances: await h.get(InstanceRepository).list({ workerType: 'builder' }),
          requests: await h.get(SpotRequestRepository).list({ workerType: 'builder' }),
        }),
      ),
    );

    await h.get(TerminationNoticeRepository).record({
      region: instance.region,
      instanceId: instance.id,
      kind: 'spot-interruption',
      action: 'terminate',
      notBefore: new Date('2030-01-01T00:00:00Z'),
    });
    const health = await api(h).get('/v1/worker-types/builder/health').expect(200);
    expect(health.body).toMatchObject({
      workerType: 'builder',
      terminationNotices: [
        {
          region: 'us-east-1',
          instanceId: instance.id,
          kind: 'spot-interruption',
          action: 'terminate',
          notBefore: '2030-01-01T00:00:00.000Z',
        },
      ],
    });
    await api(h).get('/v1/worker-types/other/health').expect(200, {
      workerType: 'other',
      terminationNotices: [],
      capacityCooldowns: [],
      quotaCooldowns: [],
      failedRequests: [],
      launches: [],
      lastErrors: [],
    });
  });

  it('refuses a malformed worker type with 400 naming it', async () => {
    const res = await api(h)
      .get(`/v1/worker-types/${'x'.repeat(65)}/stats`)
      .expect(400);
    expect(res.body).toMatchObject({
      code: 'InputError',
      details: { reasons: [{ rule: 'schema', path: 'workerType' }] },
    });
    await api(h).get('/v1/worker-types/a%3Ab/state').expect(400);
  });

  it('answers unknown routes with 404 ResourceNotFound', async () => {
    const res = await api(h).get('/v1/nothing-here').expect(404);
    expect(res.body).toMatchObject({ code: 'ResourceNotFound', requestId: expect.any(String) });
  });

  describe('internals', () => {
    const get = (path: string) => api(h).get(`/v1/internal/${path}`).set(bearer(TOKENS.internals));

    it('lists regions', async () => {
      await get('regions').expect(200, { regions: ['us-east-1', 'us-west-2'] });
    });

    it('lists spot requests to poll per region', async () => {
      const polled = makeSpotRequest({ region: 'us-west-2', az: 'us-west-2a' });
      await h.get(SpotRequestRepository).upsert(polled);
      await h.get(SpotRequestRepository).upsert(makeSpotRequest({ status: 'price-too-low' }));
      await get('spot-requests-to-poll').expect(200, [
        { region: 'us-east-1', values: [] },
        { region: 'us-west-2', values: [polled.id] },
      ]);
    });

    it('shows AMI and EBS usage', async () => {
      await h
        .get(UsageRepository)
        .recordAmiUsage('us-east-1', ['ami-0123456789abcdef0'], new Date('2026-01-01T00:00:00Z'));
      await h
        .get(Tx)
        .run((m) =>
          h
            .get(UsageRepository)
            .replaceEbsUsage('us-west-2', [{ volumeType: 'gp3', state: 'active', totalCount: 3, totalGb: 300 }], m),
        );
      await get('ami-usage').expect(200, [
        { region: 'us-east-1', id: 'ami-0123456789abcdef0', lastUsed: '2026-01-01T00:00:00.000Z' },
      ]);
      const ebs = await get('ebs-usage').expect(200);
      expect(ebs.body).toEqual([
        {
          region: 'us-west-2',
          volumeType: 'gp3',
          state: 'active',
          totalCount: 3,
          totalGb: 300,
          touched: expect.any(String),
        },
      ]);
    });

    it('shows pool stats and all state', async () => {
      const pool = await get('db-pool-stats').expect(200);
      expect(pool.body).toEqual({ total: expect.any(Number), idle: expect.any(Number), waiting: expect.any(Number) });
      expect(pool.body.total).toBeGreaterThan(0);
      const i = makeInstance({ workerType: 'a' });
      const r = makeSpotRequest({ workerType: 'b' });
      await h.get(InstanceRepository).upsert(i);
      await h.get(SpotRequestRepository).upsert(r);
      const all = await get('all-state').expect(200);
      expect(all.body.instances.map((x: { id: string }) => x.id)).toEqual([i.id]);
      expect(all.body.requests.map((x: { id: string }) => x.id)).toEqual([r.id]);
    });
  });
});
