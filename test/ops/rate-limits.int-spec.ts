import { DescribeAvailabilityZonesCommand, DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { AwsClients } from '../../src/aws/aws-clients.service';
import { Metrics } from '../../src/metrics/metrics.service';
import { AppHarness, createAppHarness } from '../app-harness';
import { clearThrottleAfterFirstHit } from '../throttle';

describe('EC2 client-side rate limits', () => {
  let h: AppHarness;
  let aws: AwsClients;

  beforeAll(async () => {
    // A tiny describe bucket: 2 calls at once, then 10 a second.
    h = await createAppHarness({ env: { EC2_RATE_LIMITS: 'describe=2:10', AWS_MAX_ATTEMPTS: 6 } });
    aws = h.get(AwsClients);
  });
  afterEach(() => h.sandbox.control.clearFaults());
  afterAll(() => h.close());

  it('spreads a burst over time as configured, and every call succeeds', async () => {
    const started = Date.now();
    const finished: number[] = [];
    await Promise.all(
      Array.from({ length: 8 }, () =>
        aws
          .ec2('us-east-1')
          .send(new DescribeAvailabilityZonesCommand({}))
          .then(() => finished.push(Date.now() - started)),
      ),
    );
    finished.sort((a, b) => a - b);
    // 2 immediately, the 6 others one per 100 ms: the last cannot finish before 600 ms.
    expect(finished[7]).toBeGreaterThanOrEqual(550);
    expect(finished).toHaveLength(8);
  });

  it('keeps buckets per region: another region is not slowed by this one', () => {
    const east = aws.bucket('us-east-1', 'describe');
    const west = aws.bucket('us-west-2', 'describe');
    expect(east).not.toBe(west);
    expect(aws.bucket('us-east-1', 'describe')).toBe(east);
  });

  it('a throttle answer slows the bucket for every caller of the region, and retries still succeed', async () => {
    const bucket = aws.bucket('us-west-2', 'describe');
    const before = bucket.currentRate();
    h.sandbox.control.setFaults({ throttle: { fraction: 1, actions: ['DescribeInstances'] } });
    const call = aws.ec2('us-west-2').send(new DescribeInstancesCommand({}));
    await clearThrottleAfterFirstHit(h.sandbox, h.get(Metrics), 'us-west-2');
    const res = await call;
    expect(res.$metadata.attempts).toBeGreaterThan(1);
    // The same bucket serves DescribeAvailabilityZones of any other caller: it was slowed too.
    expect(bucket.currentRate()).toBeLessThan(before);
    await aws.ec2('us-west-2').send(new DescribeAvailabilityZonesCommand({}));
  });
});
