import { HousekeepingService } from '../../src/housekeeping/housekeeping.service';
import { SpotPoller } from '../../src/spot-poller/spot-poller.service';
import { SpotRequestRepository } from '../../src/state/spot-request.repository';
import { AppHarness } from '../app-harness';
import { makeSpotRequest } from '../factories';
import { api, bearer, createApiHarness, TOKENS } from '../api/support';

/** SPEC §9: EC2 that cannot be reached (refused, reset, never answering) is a 503 the caller may retry. */
describe('EC2 unreachable', () => {
  let h: AppHarness;
  const admin = bearer(TOKENS.admin);

  beforeAll(async () => {
    h = await createApiHarness({ env: { AWS_TIMEOUT_MS: 500, AWS_MAX_ATTEMPTS: 2 } });
  });
  afterEach(async () => {
    h.sandbox.control.clearFaults();
    await h.sandbox.control.settled();
  });
  afterAll(() => h.close());

  it.each(['refuse', 'reset', 'hang'] as const)(
    'answers 503 ServiceUnavailable with Retry-After when EC2 connections %s',
    async (outage) => {
      h.sandbox.control.setFaults({ ec2: { outage } });
      await h.sandbox.control.settled();
      const res = await api(h).get('/v1/worker-types/builder/key-pair').set(admin).expect(503);
      expect(res.body).toMatchObject({
        code: 'ServiceUnavailable',
        message: expect.stringMatching(/^EC2 in us-(east-1|west-2) cannot be reached/),
        details: { operation: 'DescribeKeyPairs' },
      });
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    },
  );

  it('ends a housekeeping sweep and a spot poll that meet a hung EC2 with an error (AWS_TIMEOUT_MS), changing nothing', async () => {
    const request = makeSpotRequest({ created: new Date(Date.now() - 3_600_000) });
    await h.get(SpotRequestRepository).upsert(request);
    h.sandbox.control.setFaults({ ec2: { outage: 'hang' } });
    await h.sandbox.control.settled();

    await expect(h.get(HousekeepingService).runOnce()).rejects.toThrow(/EC2 in us-east-1 cannot be reached/);
    await expect(h.get(SpotPoller).pollOnce()).rejects.toThrow(/cannot be reached/);
    // No removal was based on what EC2 never answered.
    expect((await h.get(SpotRequestRepository).list()).map((r) => r.id)).toEqual([request.id]);

    h.sandbox.control.clearFaults();
    await h.sandbox.control.settled();
    await h.get(HousekeepingService).runOnce();
    expect(await h.get(SpotRequestRepository).list()).toEqual([]);
  });
});
