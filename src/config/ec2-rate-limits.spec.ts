import { AWS_EC2_RATE_LIMITS, parseEc2RateLimits, requestCategory } from './ec2-rate-limits';

describe('EC2 rate-limit settings', () => {
  it('defaults to the buckets AWS documents', () => {
    const limits = parseEc2RateLimits(undefined);
    expect(limits).toEqual(AWS_EC2_RATE_LIMITS);
    expect(limits.categories['non-mutating']).toEqual({ capacity: 100, refillPerSecond: 20 });
    expect(limits.actions.RunInstances).toEqual({ capacity: 5, refillPerSecond: 2 });
    expect(limits.resources.TerminateInstances).toEqual({ capacity: 1000, refillPerSecond: 20 });
  });

  it('overrides a category, an action and a resource bucket', () => {
    const limits = parseEc2RateLimits('mutating=25:2.5, RunInstances=10:4,TerminateInstances.instances=500:10');
    expect(limits.categories.mutating).toEqual({ capacity: 25, refillPerSecond: 2.5 });
    expect(limits.actions.RunInstances).toEqual({ capacity: 10, refillPerSecond: 4 });
    expect(limits.resources.TerminateInstances).toEqual({ capacity: 500, refillPerSecond: 10 });
    expect(limits.categories['non-mutating']).toEqual(AWS_EC2_RATE_LIMITS.categories['non-mutating']);
  });

  it.each([
    ['describe=10', 'is not <bucket>'],
    ['describe=10:1', 'the bucket must be a category'],
    ['mutating=0:1', 'capacity must be >= 1'],
    ['mutating=1:0', 'refill > 0'],
    ['CreateTags.instances=1:1', 'resource buckets are'],
  ])('refuses %p', (spec, message) => {
    expect(() => parseEc2RateLimits(spec)).toThrow(message);
  });

  it('puts each action in its category, describes without filter or paging in the small bucket', () => {
    expect(requestCategory('DescribeInstances', { Filters: [{}] })).toBe('non-mutating');
    expect(requestCategory('DescribeInstances', { MaxResults: 1000 })).toBe('non-mutating');
    expect(requestCategory('DescribeInstances', {})).toBe('unfiltered');
    expect(requestCategory('DescribeAvailabilityZones', {})).toBe('non-mutating');
    expect(requestCategory('CancelSpotInstanceRequests')).toBe('resource-intensive');
    expect(requestCategory('RequestSpotInstances')).toBe('resource-intensive');
    expect(requestCategory('ImportKeyPair')).toBe('mutating');
  });
});
