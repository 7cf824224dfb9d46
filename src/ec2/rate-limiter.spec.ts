import { AWS_EC2_RATE_LIMITS } from '../config/ec2-rate-limits';
import { Ec2RateLimiter, spendsOf, TokenBucket } from './rate-limiter';

describe('EC2 rate limiting (pure logic, simulated time)', () => {
  let now = 0;
  const clock = () => now;
  beforeEach(() => (now = 0));

  it('lets a burst of capacity through, then spaces callers at the refill rate in arrival order', () => {
    const bucket = new TokenBucket({ capacity: 3, refillPerSecond: 2 }, clock);
    expect([bucket.reserve(), bucket.reserve(), bucket.reserve()]).toEqual([0, 0, 0]);
    expect(bucket.reserve()).toBe(500);
    expect(bucket.reserve()).toBe(1000);
    now = 1000;
    expect(bucket.reserve()).toBe(500);
  });

  it('refills up to capacity, never beyond, and takes several tokens at once', () => {
    const bucket = new TokenBucket({ capacity: 10, refillPerSecond: 10 }, clock);
    expect(bucket.reserve(10)).toBe(0);
    now = 60_000;
    expect(bucket.available()).toBe(10);
    expect(bucket.reserve(15)).toBe(500);
  });

  it('charges an attempt its action request token, and instance tokens unless it is a dry run', () => {
    const limits = AWS_EC2_RATE_LIMITS;
    expect(spendsOf('RunInstances', { MaxCount: 3 }, limits)).toEqual([
      { bucket: 'request:RunInstances', limit: limits.actions.RunInstances, tokens: 1 },
      { bucket: 'resource:RunInstances', limit: limits.resources.RunInstances, tokens: 3 },
    ]);
    expect(spendsOf('RunInstances', { MaxCount: 3, DryRun: true }, limits)).toHaveLength(1);
    expect(spendsOf('TerminateInstances', { InstanceIds: ['i-1', 'i-2'] }, limits)[1]).toMatchObject({ tokens: 2 });
    expect(spendsOf('DescribeInstances', {}, limits)).toEqual([
      { bucket: 'request:DescribeInstances:unfiltered', limit: limits.categories.unfiltered, tokens: 1 },
    ]);
    expect(spendsOf('CancelSpotInstanceRequests', {}, limits)[0].limit).toBe(limits.categories['resource-intensive']);
  });

  it('waits for the scarcer of an attempt’s buckets, per region', () => {
    const limiter = new Ec2RateLimiter(
      { ...AWS_EC2_RATE_LIMITS, actions: { RunInstances: { capacity: 100, refillPerSecond: 100 } } },
      clock,
    );
    // The instance bucket (1000, 2/s) is what runs out: 1000 instances, then 2 more a second.
    expect(limiter.reserve('r1', 'RunInstances', { MaxCount: 1000 }).waitMs).toBe(0);
    expect(limiter.reserve('r1', 'RunInstances', { MaxCount: 2 }).waitMs).toBe(1000);
    expect(limiter.reserve('r2', 'RunInstances', { MaxCount: 2 }).waitMs).toBe(0);
  });
});
