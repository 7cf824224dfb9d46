import { InstanceRepository } from '../../src/state/instance.repository';
import { SpotRequestRepository } from '../../src/state/spot-request.repository';
import { makeInstance, makeSpotRequest } from '../factories';
import { createStateHarness, StateHarness } from '../state-harness';

describe('spot requests in state', () => {
  let h: StateHarness;
  let requests: SpotRequestRepository;
  let instances: InstanceRepository;

  beforeAll(async () => {
    h = await createStateHarness();
    requests = h.get(SpotRequestRepository);
    instances = h.get(InstanceRepository);
  });
  beforeEach(() => h.truncate());
  afterAll(() => h.close());

  it('inserts, refreshes on a second upsert, updates status and removes', async () => {
    const r = makeSpotRequest();
    await requests.upsert(r);
    await requests.upsert({ ...r, instanceType: 'c5.large' });
    expect(await requests.list()).toHaveLength(1);
    expect(await requests.find(r.region, r.id)).toMatchObject({
      instanceType: 'c5.large',
      status: 'pending-evaluation',
    });

    expect(await requests.updateStatus(r.region, r.id, 'open', 'price-too-low')).toBe(true);
    expect(await requests.find(r.region, r.id)).toMatchObject({ state: 'open', status: 'price-too-low' });
    expect(await requests.updateStatus(r.region, 'sir-unknown', 'open', 'x')).toBe(false);

    expect(await requests.remove(r.region, r.id)).toBe(true);
    expect(await requests.remove(r.region, r.id)).toBe(false);
  });

  it('a request whose instance already arrived is not inserted again (it is fulfilled)', async () => {
    const r = makeSpotRequest();
    await instances.upsert(makeInstance({ spotRequestId: r.id }));
    await requests.upsert(r);
    expect(await requests.list()).toEqual([]);
  });

  it('removes many of one region at once', async () => {
    const rows = [makeSpotRequest(), makeSpotRequest(), makeSpotRequest({ region: 'us-west-2' })];
    await requests.upsertMany(rows);
    expect(
      await requests.removeMany(
        'us-east-1',
        rows.map((r) => r.id),
      ),
    ).toBe(2);
    expect(await requests.list()).toHaveLength(1);
  });

  it('lists with filters', async () => {
    await requests.upsertMany([
      makeSpotRequest({ workerType: 'a' }),
      makeSpotRequest({ workerType: 'a', state: 'active', status: 'fulfilled' }),
      makeSpotRequest({ workerType: 'b', region: 'eu-central-1' }),
    ]);
    expect(await requests.list({ workerType: 'a' })).toHaveLength(2);
    expect(await requests.list({ workerType: 'a', state: 'open' })).toHaveLength(1);
    expect(await requests.list({ region: 'eu-central-1' })).toHaveLength(1);
  });

  it('to poll: open requests in pending-evaluation or pending-fulfillment, per configured region', async () => {
    const polled = [
      makeSpotRequest({ id: 'sir-a', status: 'pending-evaluation' }),
      makeSpotRequest({ id: 'sir-b', status: 'pending-fulfillment' }),
      makeSpotRequest({ id: 'sir-c', region: 'us-west-2' }),
    ];
    const notPolled = [
      makeSpotRequest({ status: 'price-too-low' }),
      makeSpotRequest({ state: 'active', status: 'fulfilled' }),
      makeSpotRequest({ state: 'closed', status: 'pending-evaluation' }),
      makeSpotRequest({ region: 'ap-south-1' }),
    ];
    await requests.upsertMany([...polled, ...notPolled]);
    expect(await requests.toPoll(['us-east-1', 'us-west-2', 'eu-central-1'])).toEqual([
      { region: 'us-east-1', values: ['sir-a', 'sir-b'] },
      { region: 'us-west-2', values: ['sir-c'] },
      { region: 'eu-central-1', values: [] },
    ]);
  });
});
