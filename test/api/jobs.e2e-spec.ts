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
      quotaCooldowns: [],
      failedRequests: [],
    });
  });
});
