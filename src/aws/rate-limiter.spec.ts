import { bucketOf, parseEc2Limits, TokenBucket } from './rate-limiter';

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

  it('refills up to capacity, never beyond', () => {
    const bucket = new TokenBucket({ capacity: 2, refillPerSecond: 10 }, clock);
    bucket.reserve();
    bucket.reserve();
    now = 60_000;
    expect([bucket.reserve(), bucket.reserve()]).toEqual([0, 0]);
    expect(bucket.reserve()).toBe(100);
  });

  it('halves the rate and empties the bucket on a throttle, then recovers gradually', () => {
    const bucket = new TokenBucket({ capacity: 10, refillPerSecond: 10 }, clock);
    bucket.throttled();
    expect(bucket.currentRate()).toBe(5);
    expect(bucket.reserve()).toBe(200);
    bucket.throttled();
    expect(bucket.currentRate()).toBe(2.5);
    now = 2000;
    expect(bucket.currentRate()).toBeGreaterThan(2.5);
    now = 60_000;
    expect(bucket.currentRate()).toBe(10);
  });

  it('maps EC2 operations to their buckets', () => {
    expect(bucketOf('DescribeInstances')).toBe('describe');
    expect(bucketOf('RunInstances')).toBe('run-instances');
    expect(bucketOf('TerminateInstances')).toBe('terminate-instances');
    expect(bucketOf('CreateTags')).toBe('create-tags');
    expect(bucketOf('CancelSpotInstanceRequests')).toBe('mutating');
  });

  it('parses overrides and refuses nonsense', () => {
    expect(parseEc2Limits('describe=10:1').describe).toEqual({ capacity: 10, refillPerSecond: 1 });
    expect(parseEc2Limits(undefined).mutating.capacity).toBeGreaterThan(0);
    expect(() => parseEc2Limits('describe=10')).toThrow('describe=10');
    expect(() => parseEc2Limits('other=1:1')).toThrow('other=1:1');
    expect(() => parseEc2Limits('describe=0:1')).toThrow('capacity');
  });
});
