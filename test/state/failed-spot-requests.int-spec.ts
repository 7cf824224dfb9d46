import { FailedSpotRequestRepository, NewFailedSpotRequest } from '../../src/state/failed-spot-request.repository';
import { createStateHarness, StateHarness } from '../state-harness';

describe('failed spot requests in state', () => {
  let h: StateHarness;
  let failures: FailedSpotRequestRepository;
  const failure = (o: Partial<NewFailedSpotRequest> = {}): NewFailedSpotRequest => ({
    region: 'us-east-1',
    id: 'sir-1',
    workerType: 'builder',
    az: 'us-east-1a',
    instanceType: 'm5.large',
    state: 'open',
    status: 'price-too-low',
    ...o,
  });

  beforeAll(async () => {
    h = await createStateHarness();
    failures = h.get(FailedSpotRequestRepository);
  });
  beforeEach(() => h.truncate());
  afterAll(() => h.close());

  it("records requests given up on and lists a worker type's, newest first", async () => {
    await failures.record([failure({ id: 'sir-1' }), failure({ id: 'sir-2', workerType: 'other' })]);
    await failures.record([failure({ id: 'sir-3', state: 'failed', status: 'bad-parameters' })]);
    const listed = await failures.recentForWorkerType('builder');
    expect(listed.map((f) => [f.id, f.state, f.status])).toEqual([
      ['sir-3', 'failed', 'bad-parameters'],
      ['sir-1', 'open', 'price-too-low'],
    ]);
    expect(await failures.recentForWorkerType('nobody')).toEqual([]);
  });

  it('refreshes a request recorded twice', async () => {
    await failures.record([failure()]);
    await failures.record([failure({ status: 'capacity-not-available' })]);
    expect((await failures.recentForWorkerType('builder')).map((f) => f.status)).toEqual(['capacity-not-available']);
  });

  it('forgets failures older than a day', async () => {
    await failures.record([failure({ id: 'sir-old' })]);
    await h.dataSource.query(`UPDATE failed_spot_requests SET failed = now() - interval '25 hours'`);
    expect(await failures.recentForWorkerType('builder')).toEqual([]);
    await failures.record([failure({ id: 'sir-new' })]);
    const rows: { id: string }[] = await h.dataSource.query(`SELECT id FROM failed_spot_requests`);
    expect(rows).toEqual([{ id: 'sir-new' }]);
  });
});
