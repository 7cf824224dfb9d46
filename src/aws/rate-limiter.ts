/** EC2's request-rate buckets (https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html). */
export const EC2_BUCKETS = ['describe', 'mutating', 'run-instances', 'terminate-instances', 'create-tags'] as const;
export type Ec2Bucket = (typeof EC2_BUCKETS)[number];

export interface BucketLimit {
  /** Tokens the bucket holds when full: the largest burst. */
  capacity: number;
  /** Tokens added per second: the sustained rate. */
  refillPerSecond: number;
}

/** Defaults a little under EC2's own per-account limits, so that we are never the one throttled. */
export const DEFAULT_EC2_LIMITS: Record<Ec2Bucket, BucketLimit> = {
  describe: { capacity: 80, refillPerSecond: 16 },
  mutating: { capacity: 150, refillPerSecond: 4 },
  'run-instances': { capacity: 800, refillPerSecond: 2 },
  'terminate-instances': { capacity: 800, refillPerSecond: 16 },
  'create-tags': { capacity: 80, refillPerSecond: 8 },
};

export function bucketOf(operation: string): Ec2Bucket {
  if (operation === 'RunInstances') return 'run-instances';
  if (operation === 'TerminateInstances') return 'terminate-instances';
  if (operation === 'CreateTags') return 'create-tags';
  return /^(Describe|Get|List)/.test(operation) ? 'describe' : 'mutating';
}

/** Parses `describe=100:20,run-instances=50:2` (capacity:refill per second) over the defaults. */
export function parseEc2Limits(spec: string | undefined): Record<Ec2Bucket, BucketLimit> {
  const limits = { ...DEFAULT_EC2_LIMITS };
  for (const part of (spec ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^([a-z-]+)=(\d+(?:\.\d+)?):(\d+(?:\.\d+)?)$/.exec(part);
    if (!m || !(EC2_BUCKETS as readonly string[]).includes(m[1])) {
      throw new Error(
        `"${part}" is not <bucket>=<capacity>:<refill per second> with a bucket of ${EC2_BUCKETS.join(', ')}`,
      );
    }
    const capacity = Number(m[2]);
    const refillPerSecond = Number(m[3]);
    if (capacity < 1 || refillPerSecond <= 0) throw new Error(`"${part}": capacity must be >= 1 and refill > 0`);
    limits[m[1] as Ec2Bucket] = { capacity, refillPerSecond };
  }
  return limits;
}

/**
 * A token bucket whose callers reserve tokens in arrival order: a token taken while the bucket is empty
 * is borrowed against future refill, and the caller waits until it is paid back. A throttle answer from
 * EC2 halves the refill rate for every caller of the bucket and empties it; the rate then climbs back by
 * a tenth of the configured rate each second without another throttle (additive increase,
 * multiplicative decrease).
 */
export class TokenBucket {
  private tokens: number;
  private rate: number;
  private last: number;
  private lastThrottle = -Infinity;

  constructor(
    private readonly limit: BucketLimit,
    private readonly now: () => number = () => Date.now(),
  ) {
    this.tokens = limit.capacity;
    this.rate = limit.refillPerSecond;
    this.last = this.now();
  }

  /** Takes a token; resolves when it may be spent. */
  async take(): Promise<void> {
    const waitMs = this.reserve();
    if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
  }

  /** Takes a token and returns how long to wait before spending it (ms). */
  reserve(): number {
    this.refill();
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.rate) * 1000);
  }

  throttled(): void {
    this.refill();
    this.rate = Math.max(this.limit.refillPerSecond / 64, this.rate / 2);
    this.tokens = Math.min(this.tokens, 0);
    this.lastThrottle = this.now();
  }

  /** The current refill rate, tokens per second. */
  currentRate(): number {
    this.refill();
    return this.rate;
  }

  private refill(): void {
    const now = this.now();
    const elapsed = Math.max(0, (now - this.last) / 1000);
    this.last = now;
    this.tokens = Math.min(this.limit.capacity, this.tokens + elapsed * this.rate);
    if (this.rate < this.limit.refillPerSecond && now - this.lastThrottle >= 1000) {
      this.rate = Math.min(this.limit.refillPerSecond, this.rate + (this.limit.refillPerSecond / 10) * elapsed);
    }
  }
}
