import { Client } from 'pg';
import { keyPairNameFor } from '../../src/ec2/naming';
import { HousekeepingService } from '../../src/housekeeping/housekeeping.service';
import { SpotPoller } from '../../src/spot-poller/spot-poller.service';
import { SpotRequestRepository } from '../../src/state/spot-request.repository';
import { AppHarness } from '../app-harness';
import { makeSpotRequest } from '../factories';
import { api, bearer, createApiHarness, TOKENS } from './support';

const REGION = 'us-east-1';

describe('API views of the periodic jobs', () => {
  let h: AppHarness;
  beforeAll(async () => {
    h = await createApiHarness({ sandbox: { clockSpeed: 0, spotEvaluationSeconds: 1 } });
  });
  afterAll(() => h.close());
  beforeEach(() => h.reset());

  it('GET /v1/internal/housekeeping shows the last outcome of each region, to internals only', async () => {
    await api(h).get('/v1/internal/housekeeping').expect(401);
    await api(h).get('/v1/internal/housekeeping').set(bearer(TOKENS.builder)).expect(403);
    await api(h).get('/v1/internal/housekeeping').set(bearer(TOKENS.internals)).expect(200, []);

    h.sandbox.control.seedInstances({ region: REGION, count: 2, keyName: keyPairNameFor(h.config, 'builder') });
    await h.get(HousekeepingService).runOnce();

    const res = await api(h).get('/v1/internal/housekeeping').set(bearer(TOKENS.internals)).expect(200);
    expect(res.body).toEqual(
      h.config.regions.map((region) => ({
        region,
        started: expect.any(String),
        finished: expect.any(String),
        durationMs: expect.any(Number),
        missingInstances: region === REGION ? 2 : 0,
        missingSpotRequests: 0,
        extraneousInstances: 0,
        extraneousSpotRequests: 0,
        correctedInstances: 0,
        zombiesKilled: 0,
        stoppedKilled: 0,
        tagged: region === REGION ? 4 : 0,
        error: null,
      })),
    );
  });

  it('GET /v1/worker-types/:wt/health shows the capacity cooldowns its requests caused', async () => {
    const zone = 'us-east-1a';
    h.sandbox.control.setCapacity({ region: REGION, zone, instanceType: 'c5.large', capacity: 0 });
    const {
      spotInstanceRequestIds: [id],
    } = h.sandbox.control.seedSpotRequests({
      region: REGION,
      count: 1,
      zone,
      instanceType: 'c5.large',
      spotPrice: '5',
      keyName: keyPairNameFor(h.config, 'builder'),
      evaluate: true,
    });
    await h
      .get(SpotRequestRepository)
      .upsert(makeSpotRequest({ id, region: REGION, workerType: 'builder', az: zone, instanceType: 'c5.large' }));
    h.sandbox.control.setClock({ advanceSeconds: 2 });
    await h.get(SpotPoller).pollOnce();

    const res = await api(h).get('/v1/worker-types/builder/health').expect(200);
    expect(res.body.capacityCooldowns).toEqual([
      {
        region: REGION,
        az: zone,
        instanceType: 'c5.large',
        lifecycle: 'spot',
        until: expect.any(String),
        reason: 'capacity-not-available',
        spotRequestId: id,
        created: expect.any(String),
      },
    ]);
    await api(h).get('/v1/worker-types/other/health').expect(200, {
      workerType: 'other',
      terminationNotices: [],
      capacityCooldowns: [],
      failedRequests: [],
      launches: [],
      quotaCooldowns: [],
      lastErrors: [],
    });
  });

  describe('POST /v1/internal/jobs/:name', () => {
    it('runs one pass of the job now, though it is not scheduled here, and answers what it did', async () => {
      h.sandbox.control.seedInstances({ region: REGION, count: 2, keyName: keyPairNameFor(h.config, 'builder') });
      const res = await api(h).post('/v1/internal/jobs/housekeeping').set(bearer(TOKENS.internals)).expect(200);
      expect(res.body).toEqual({
        job: 'housekeeping',
        result: 'ran',
        started: expect.any(String),
        durationMs: expect.any(Number),
        outcome: expect.objectContaining({ regions: 2, missingInstances: 2, tagged: 4 }),
        error: null,
      });
      const rows = await api(h).get('/v1/internal/all-state').set(bearer(TOKENS.internals)).expect(200);
      expect(rows.body.instances).toHaveLength(2);
      // Asked for by hand, a pass runs however recently the last one did.
      await api(h).post('/v1/internal/jobs/housekeeping').set(bearer(TOKENS.internals)).expect(200);
      const poll = await api(h).post('/v1/internal/jobs/spot-poll').set(bearer(TOKENS.internals)).expect(200);
      expect(poll.body).toMatchObject({ job: 'spot-poll', result: 'ran', outcome: { polled: 0 } });
    });

    it('answers a failed pass as failed, with the reason', async () => {
      h.sandbox.control.setFaults({ ec2: { outage: 'refuse' } });
      await h.sandbox.control.settled();
      try {
        const res = await api(h).post('/v1/internal/jobs/pricing').set(bearer(TOKENS.internals)).expect(200);
        expect(res.body).toMatchObject({ job: 'pricing', result: 'failed', outcome: null, error: expect.any(String) });
        expect(h.logs.find('pricing failed')).not.toHaveLength(0);
      } finally {
        h.sandbox.control.clearFaults();
        await h.sandbox.control.settled();
      }
    });

    it('refuses without the internals scope, an unknown job, and a pass while another holds the job', async () => {
      await api(h).post('/v1/internal/jobs/housekeeping').expect(401);
      await api(h).post('/v1/internal/jobs/housekeeping').set(bearer(TOKENS.builder)).expect(403);
      const unknown = await api(h).post('/v1/internal/jobs/backup').set(bearer(TOKENS.internals)).expect(404);
      expect(unknown.body).toMatchObject({
        code: 'ResourceNotFound',
        details: { jobs: ['spot-poll', 'housekeeping', 'pricing', 'on-demand-pricing', 'termination-reasons'] },
      });

      // Another replica's pass holds the job's leader lock.
      const other = new Client({ connectionString: h.db.url });
      await other.connect();
      try {
        await other.query(`SELECT pg_advisory_lock(hashtextextended('ec2-manager:job:housekeeping', 0))`);
        const busy = await api(h).post('/v1/internal/jobs/housekeeping').set(bearer(TOKENS.internals)).expect(503);
        expect(busy.body).toMatchObject({
          code: 'ServiceUnavailable',
          message: expect.stringMatching(/another replica/),
        });
        expect(busy.headers['retry-after']).toBe('5');
      } finally {
        await other.end();
      }
      await api(h).post('/v1/internal/jobs/housekeeping').set(bearer(TOKENS.internals)).expect(200);
    });
  });
});
