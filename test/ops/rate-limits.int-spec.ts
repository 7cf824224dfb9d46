import { DescribeAvailabilityZonesCommand, DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { Ec2Clients } from '../../src/ec2/ec2-clients.service';
import { Metrics } from '../../src/metrics/metrics.service';
import { AppHarness, createAppHarness } from '../app-harness';
import { clearThrottleAfterFirstHit } from '../throttle';

describe('EC2 client-side rate limits', () => {
  let h: AppHarness;
  let ec2: Ec2Clients;

  beforeAll(async () => {
    // A tiny non-mutating bucket: 2 calls at once, then 10 a second.
    h = await createAppHarness({ env: { EC2_RATE_LIMITS: 'non-mutating=2:10', AWS_MAX_ATTEMPTS: 6 } });
    ec2 = h.get(Ec2Clients);
  });
  afterEach(() => h.sandbox.control.clearFaults());
  afterAll(() => h.close());

  it('spreads a burst over time as configured, and every call succeeds', async () => {
    const started = Date.now();
    const finished: number[] = [];
    await Promise.all(
      Array.from({ length: 8 }, () =>
        ec2
          .client('us-east-1')
          .send(new DescribeAvailabilityZonesCommand({}))
          .then(() => finished.push(Date.now() - started)),
      ),
    );
    finished.sort((a, b) => a - b);
    // 2 immediately, the 6 others one per 100 ms: the last cannot finish before 600 ms.
    expect(finished[7]).toBeGreaterThanOrEqual(550);
    expect(finished).toHaveLength(8);
  });

  it('keeps a bucket per region and action, as EC2 throttles each action on its own', () => {
    const east = ec2.limiter.requestBucket('us-east-1', 'DescribeAvailabilityZones');
    expect(ec2.limiter.requestBucket('us-west-2', 'DescribeAvailabilityZones')).not.toBe(east);
    expect(ec2.limiter.requestBucket('us-east-1', 'DescribeInstances', { MaxResults: 5 })).not.toBe(east);
    expect(ec2.limiter.requestBucket('us-east-1', 'DescribeAvailabilityZones')).toBe(east);
  });

  it('a throttle answer never shrinks a bucket: the retry alone backs off, and other actions keep their burst', async () => {
    const input = { MaxResults: 5 };
    const bucket = ec2.limiter.requestBucket('us-west-2', 'DescribeInstances', input);
    h.sandbox.control.setFaults({ throttle: { fraction: 1, actions: ['DescribeInstances'] } });
    const call = ec2.client('us-west-2').send(new DescribeInstancesCommand(input));
    await clearThrottleAfterFirstHit(h.sandbox, h.get(Metrics), 'us-west-2');
    const res = await call;
    expect(res.$metadata.attempts).toBeGreaterThan(1);
    expect(bucket.limit).toEqual({ capacity: 2, refillPerSecond: 10 });
    // Another action of the region kept its whole burst: nothing was taken from it or slowed.
    expect(ec2.limiter.requestBucket('us-west-2', 'DescribeAvailabilityZones').available()).toBe(2);
  });
});
