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

  it('refuses up front, taking nothing, an attempt of a waiting caller whose wait would pass its bound', () => {
    const limiter = new Ec2RateLimiter(AWS_EC2_RATE_LIMITS, clock);
    const run = { MaxCount: 1 };
    // RunInstances' request bucket: 5, then 2 a second. The burst passes; then waits grow 500 ms a call.
    for (let i = 0; i < 5; i++) expect(limiter.reserve('r1', 'RunInstances', run, 1000)).toMatchObject({ waitMs: 0 });
    expect(limiter.reserve('r1', 'RunInstances', run, 1000)).toMatchObject({ waitMs: 500, refused: false });
    expect(limiter.reserve('r1', 'RunInstances', run, 1000)).toMatchObject({ waitMs: 1000, refused: false });
    const refused = limiter.reserve('r1', 'RunInstances', run, 1000);
    expect(refused).toMatchObject({ waitMs: 1500, refused: true, scarcest: { bucket: 'request:RunInstances' } });
    // Nothing was taken: the queue is as it was, for the next caller and for the refused one's retry.
    expect(limiter.requestBucket('r1', 'RunInstances').available()).toBe(-2);
    expect(limiter.reserve('r1', 'RunInstances', run, 1000).refused).toBe(true);
    now = 250; // Half a token paid back: 1.25 s ahead now, still over the bound.
    expect(limiter.reserve('r1', 'RunInstances', run, 1000)).toMatchObject({ waitMs: 1250, refused: true });
    now = 500; // The wait the refusal's Retry-After promised is over: the retry is let through.
    expect(limiter.reserve('r1', 'RunInstances', run, 1000)).toMatchObject({ waitMs: 1000, refused: false });
  });

  it('lets background work (no bound) queue however long, and a waiting caller behind it is refused', () => {
    const limiter = new Ec2RateLimiter(AWS_EC2_RATE_LIMITS, clock);
    const terminate = (n: number) => ({ InstanceIds: Array.from({ length: n }, (_, i) => `i-${i}`) });
    // Housekeeping terminating 1100 instances: 1000 at once, the last 100 after 100 / 20 per second.
    expect(limiter.reserve('r1', 'TerminateInstances', terminate(1000)).waitMs).toBe(0);
    expect(limiter.reserve('r1', 'TerminateInstances', terminate(100))).toMatchObject({ waitMs: 5000, refused: false });
    // An API request's termination waits on the same instance bucket: refused, naming that bucket.
    expect(limiter.reserve('r1', 'TerminateInstances', terminate(1), 3000)).toMatchObject({
      waitMs: 5050,
      refused: true,
      scarcest: { bucket: 'resource:TerminateInstances' },
    });
    // A bound of 0 refuses any wait at all, and a call that need not wait is never refused.
    expect(limiter.reserve('r1', 'TerminateInstances', terminate(1), 0).refused).toBe(true);
    expect(limiter.reserve('r2', 'TerminateInstances', terminate(1), 0)).toMatchObject({ waitMs: 0, refused: false });
  });
});
