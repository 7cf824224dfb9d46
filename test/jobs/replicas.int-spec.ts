import type { InitializeHandlerOptions, InitializeMiddleware } from '@smithy/types';
import { Ec2Clients } from '../../src/ec2/ec2-clients.service';
import { keyPairNameFor } from '../../src/ec2/naming';
import { JOB_NAMES } from '../../src/config/app-config';
import { JobRunRecord } from '../../src/jobs/job-runner';
import { SpotRequestRepository } from '../../src/state/spot-request.repository';
import { AppHarness, createAppHarness, TEST_REGIONS } from '../app-harness';
import { makeSpotRequest } from '../factories';
import { waitFor } from '../jobs-support';

const SLOW_CALLS = [
  'DescribeSpotInstanceRequestsCommand',
  'DescribeInstancesCommand',
  'DescribeSpotPriceHistoryCommand',
];

/** Makes the describes of one app's clients slow, so that its runs last most of an interval and could overlap. */
function slowDown(h: AppHarness, ms: number): void {
  for (const region of TEST_REGIONS) {
    const stack = h.get(Ec2Clients).client(region).middlewareStack as unknown as {
      add(middleware: InitializeMiddleware<object, object>, options: InitializeHandlerOptions): void;
    };
    stack.add(
      (next, context) => async (args) => {
        if (SLOW_CALLS.includes(String(context.commandName))) await new Promise((r) => setTimeout(r, ms));
        return next(args);
      },
      { step: 'initialize', name: 'testSlowDown', override: true },
    );
  }
}

function expectNoOverlap(runs: JobRunRecord[]): void {
  const sorted = [...runs].sort((x, y) => x.started.getTime() - y.started.getTime());
  for (let i = 1; i < sorted.length; i++) {
    expect(sorted[i].started.getTime()).toBeGreaterThanOrEqual(sorted[i - 1].finished.getTime());
  }
}

describe('two replicas on one database (SPEC §9)', () => {
  let a: AppHarness;
  let b: AppHarness;
  const jobsEnv = {
    SPOT_POLL_ENABLED: true,
    HOUSEKEEPING_ENABLED: true,
    PRICING_ENABLED: true,
    TERMINATION_REASONS_ENABLED: true,
    SPOT_POLL_SECONDS: 1,
    HOUSEKEEPING_SECONDS: 1,
    PRICING_POLL_SECONDS: 1,
    ON_DEMAND_PRICING_SECONDS: 1,
    TERMINATION_REASONS_SECONDS: 1,
  };

  beforeAll(async () => {
    a = await createAppHarness({ env: jobsEnv, sandbox: { clockSpeed: 0 } });
    // The second replica shares the first one's database and cloud.
    b = await createAppHarness({
      env: {
        ...jobsEnv,
        DATABASE_URL: a.db.url,
        EC2_ENDPOINT: a.sandbox.endpoints.ec2,
        SQS_ENDPOINT: a.sandbox.endpoints.sqs,
        EVENTS_ENDPOINT: a.sandbox.endpoints.events,
      },
    });
  });
  afterAll(async () => {
    for (const h of [b, a]) {
      await h?.app.close().catch(() => undefined);
      await h?.sandbox.stop();
    }
    await b?.db.drop();
    await a?.db.drop();
  });

  it('should run each job on one replica at a time, and hand over when the leader stops', async () => {
    slowDown(a, 250);
    slowDown(b, 250);
    const key = keyPairNameFor(a.config, 'replica-wt');
    const { spotInstanceRequestIds } = a.sandbox.control.seedSpotRequests({
      region: TEST_REGIONS[0],
      count: 5,
      keyName: key,
    });
    await a
      .get(SpotRequestRepository)
      .upsertMany(
        spotInstanceRequestIds.map((id) => makeSpotRequest({ id, region: TEST_REGIONS[0], workerType: 'replica-wt' })),
      );

    // Several ticks of both replicas.
    await waitFor(() => JOB_NAMES.every((job) => a.job(job).history.length + b.job(job).history.length >= 4), 20000);
    for (const job of JOB_NAMES) {
      expectNoOverlap([...a.job(job).history, ...b.job(job).history]);
    }

    // Stop whichever ran the spot poller last; the other must take every job over.
    const last = (h: AppHarness) => Math.max(0, ...h.job('spot-poll').history.map((r) => r.started.getTime()));
    const [leader, other] = last(a) >= last(b) ? [a, b] : [b, a];
    await leader.app.close();
    const stoppedAt = Date.now();
    await waitFor(
      () => JOB_NAMES.every((job) => other.job(job).history.some((r) => r.started.getTime() > stoppedAt && r.ok)),
      15000,
    );
    for (const job of JOB_NAMES) {
      expectNoOverlap([...a.job(job).history, ...b.job(job).history]);
    }
  });
});
