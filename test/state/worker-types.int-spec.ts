import { InstanceRepository } from '../../src/state/instance.repository';
import { SpotRequestRepository } from '../../src/state/spot-request.repository';
import { WorkerTypeRepository } from '../../src/state/worker-type.repository';
import { makeInstance, makeSpotRequest } from '../factories';
import { createStateHarness, StateHarness } from '../state-harness';

describe('worker types in state', () => {
  let h: StateHarness;
  let workerTypes: WorkerTypeRepository;

  beforeAll(async () => {
    h = await createStateHarness();
    workerTypes = h.get(WorkerTypeRepository);
  });
  beforeEach(() => h.truncate());
  afterAll(() => h.close());

  it('lists every worker type with any instance or spot request, sorted, once', async () => {
    await h
      .get(InstanceRepository)
      .upsertMany([makeInstance({ workerType: 'zeta' }), makeInstance({ workerType: 'alpha' })]);
    await h
      .get(SpotRequestRepository)
      .upsertMany([makeSpotRequest({ workerType: 'mid' }), makeSpotRequest({ workerType: 'alpha' })]);
    expect(await workerTypes.list()).toEqual(['alpha', 'mid', 'zeta']);
  });

  it('counts running instances, and pending instances plus open requests, by instance type', async () => {
    await h
      .get(InstanceRepository)
      .upsertMany([
        makeInstance({ state: 'running', instanceType: 'm5.large' }),
        makeInstance({ state: 'running', instanceType: 'm5.large', region: 'us-west-2' }),
        makeInstance({ state: 'running', instanceType: 'c5.large' }),
        makeInstance({ state: 'pending', instanceType: 'm5.large' }),
        makeInstance({ state: 'running', workerType: 'other' }),
      ]);
    await h
      .get(SpotRequestRepository)
      .upsertMany([
        makeSpotRequest({ instanceType: 'm5.large' }),
        makeSpotRequest({ instanceType: 'm5.large', status: 'price-too-low' }),
        makeSpotRequest({ instanceType: 'c5.large', state: 'cancelled', status: 'canceled-before-fulfillment' }),
      ]);
    expect(await workerTypes.counts('builder')).toEqual({
      pending: [
        { instanceType: 'm5.large', count: 1, type: 'instance' },
        { instanceType: 'm5.large', count: 2, type: 'spot-request' },
      ],
      running: [
        { instanceType: 'c5.large', count: 1, type: 'instance' },
        { instanceType: 'm5.large', count: 2, type: 'instance' },
      ],
    });
    expect(await workerTypes.counts('nobody-uses-this')).toEqual({ pending: [], running: [] });
  });

  it('counts several worker types in one statement, each as if asked alone', async () => {
    await h
      .get(InstanceRepository)
      .upsertMany([
        makeInstance({ state: 'running', instanceType: 'm5.large' }),
        makeInstance({ state: 'pending', instanceType: 'c5.large', workerType: 'other' }),
      ]);
    await h.get(SpotRequestRepository).upsertMany([makeSpotRequest({ instanceType: 'm5.large', workerType: 'other' })]);
    const all = await workerTypes.countsOf(['builder', 'other', 'nobody-uses-this']);
    expect([...all.keys()]).toEqual(['builder', 'other', 'nobody-uses-this']);
    for (const [workerType, counts] of all) expect(counts).toEqual(await workerTypes.counts(workerType));
    expect(all.get('other')).toEqual({
      pending: [
        { instanceType: 'c5.large', count: 1, type: 'instance' },
        { instanceType: 'm5.large', count: 1, type: 'spot-request' },
      ],
      running: [],
    });
  });

  it('gives a worker type its instance and request ids per region', async () => {
    const i1 = makeInstance({ id: 'i-1' });
    const i2 = makeInstance({ id: 'i-2', region: 'us-west-2' });
    await h.get(InstanceRepository).upsertMany([i1, i2, makeInstance({ workerType: 'other' })]);
    await h.get(SpotRequestRepository).upsertMany([makeSpotRequest({ id: 'sir-1' })]);
    expect(await workerTypes.resourcesByRegion('builder')).toEqual([
      { region: 'us-east-1', instances: ['i-1'], requests: ['sir-1'] },
      { region: 'us-west-2', instances: ['i-2'], requests: [] },
    ]);
  });
});
