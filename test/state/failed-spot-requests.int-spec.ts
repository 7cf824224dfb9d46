import { FailedSpotRequestRepository, NewFailedSpotRequest } from '../../src/state/failed-spot-request.repository';
import { HistoryRepository } from '../../src/state/history.repository';
import { createStateHarness, StateHarness } from '../state-harness';

describe('failed spot requests and history retention in state', () => {
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

  it("shows a day's failures, and keeps older ones until the retention prune", async () => {
    await failures.record([failure({ id: 'sir-old' })]);
    await h.dataSource.query(`UPDATE failed_spot_requests SET failed = now() - interval '25 hours'`);
    expect(await failures.recentForWorkerType('builder')).toEqual([]);
    await failures.record([failure({ id: 'sir-new' })]);
    const ids = async () =>
      (await h.dataSource.query<{ id: string }[]>(`SELECT id FROM failed_spot_requests ORDER BY id`)).map((r) => r.id);
    expect(await ids()).toEqual(['sir-new', 'sir-old']);
    expect(await h.get(HistoryRepository).prune(1)).toEqual({ cloudwatchLog: 0, failedSpotRequests: 1 });
    expect(await ids()).toEqual(['sir-new']);
  });

  it('prunes the event log by when each event was received, however long the backlog', async () => {
    await h.dataSource.query(
      `INSERT INTO cloudwatch_log (id, region, state, generated, received)
       SELECT 'i-' || n, 'us-east-1', 'running', now(), now() - interval '15 days' FROM generate_series(1, 5003) n`,
    );
    await h.dataSource.query(
      `INSERT INTO cloudwatch_log (id, region, state, generated, received)
       VALUES ('i-new', 'us-east-1', 'running', now() - interval '20 days', now() - interval '13 days'),
              ('i-now', 'us-east-1', 'running', now(), now())`,
    );
    expect(await h.get(HistoryRepository).prune(14)).toEqual({ cloudwatchLog: 5003, failedSpotRequests: 0 });
    const rows: { id: string }[] = await h.dataSource.query(`SELECT id FROM cloudwatch_log ORDER BY id`);
    expect(rows.map((r) => r.id)).toEqual(['i-new', 'i-now']);
  });

  it('stops pruning when told to (a fenced run writes nothing more)', async () => {
    await failures.record([failure()]);
    await h.dataSource.query(`UPDATE failed_spot_requests SET failed = now() - interval '30 days'`);
    const stop = new Error('fenced');
    await expect(
      h.get(HistoryRepository).prune(14, () => {
        throw stop;
      }),
    ).rejects.toBe(stop);
    expect(await h.dataSource.query(`SELECT id FROM failed_spot_requests`)).toHaveLength(1);
  });
});
