import {
  BucketLimit,
  Ec2RateLimits,
  RequestShape,
  requestCategory,
  RESOURCE_ACTIONS,
  ResourceAction,
} from '../config/ec2-rate-limits';

/**
 * A token bucket whose callers reserve tokens in arrival order: tokens taken while the bucket is empty
 * are borrowed against future refill, and the caller waits until they are paid back. Its rate never
 * changes: EC2's buckets don't shrink when they throttle, so ours don't either; backing off after a
 * throttle is the retry strategy's job alone (see `Ec2RetryStrategy`).
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly limit: BucketLimit,
    private readonly now: () => number = () => Date.now(),
  ) {
    this.tokens = limit.capacity;
    this.last = this.now();
  }

  /** Takes `n` tokens and returns how long to wait before spending them (ms). */
  reserve(n = 1): number {
    this.refill();
    this.tokens -= n;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.limit.refillPerSecond) * 1000);
  }

  /** Tokens in the bucket now (negative while callers wait on borrowed ones). */
  available(): number {
    this.refill();
    return this.tokens;
  }

  private refill(): void {
    const now = this.now();
    const elapsed = Math.max(0, (now - this.last) / 1000);
    this.last = now;
    this.tokens = Math.min(this.limit.capacity, this.tokens + elapsed * this.limit.refillPerSecond);
  }
}

/** What one attempt of an EC2 call spends: a request token of its action, and resource tokens per instance. */
export interface Spend {
  /** `request:<Action>`, `request:<Action>:unfiltered` or `resource:<Action>`. */
  bucket: string;
  limit: BucketLimit;
  tokens: number;
}

interface CallShape extends RequestShape {
  DryRun?: boolean;
  MaxCount?: number;
  InstanceIds?: unknown[];
}

export function spendsOf(action: string, input: CallShape, limits: Ec2RateLimits): Spend[] {
  const category = requestCategory(action, input);
  const spends: Spend[] = [
    {
      bucket: category === 'unfiltered' ? `request:${action}:unfiltered` : `request:${action}`,
      limit: (category !== 'unfiltered' ? limits.actions[action] : undefined) ?? limits.categories[category],
      tokens: 1,
    },
  ];
  // A dry run launches and terminates nothing, so it costs no instance tokens.
  if ((RESOURCE_ACTIONS as readonly string[]).includes(action) && !input.DryRun) {
    const instances = action === 'RunInstances' ? (input.MaxCount ?? 1) : (input.InstanceIds?.length ?? 0);
    if (instances > 0) {
      spends.push({
        bucket: `resource:${action}`,
        limit: limits.resources[action as ResourceAction],
        tokens: instances,
      });
    }
  }
  return spends;
}

/**
 * Client-side copies of EC2's buckets for one process, per region: every attempt of every call (the
 * API's, the jobs', the event listener's) takes its tokens first, so that together they stay under what
 * EC2 would allow instead of learning it from RequestLimitExceeded.
 */
export class Ec2RateLimiter {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly limits: Ec2RateLimits,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** Reserves the tokens of one attempt; returns how long to wait before sending it (ms). */
  reserve(region: string, action: string, input: object): { waitMs: number; spends: Spend[] } {
    const spends = spendsOf(action, input, this.limits);
    let waitMs = 0;
    for (const spend of spends) waitMs = Math.max(waitMs, this.bucket(region, spend).reserve(spend.tokens));
    return { waitMs, spends };
  }

  /** The request bucket an action called with `input` takes from, in one region (tests and diagnostics). */
  requestBucket(region: string, action: string, input: object = {}): TokenBucket {
    return this.bucket(region, spendsOf(action, input, this.limits)[0]);
  }

  private bucket(region: string, spend: Pick<Spend, 'bucket' | 'limit'>): TokenBucket {
    const key = `${region}/${spend.bucket}`;
    let found = this.buckets.get(key);
    if (!found) {
      found = new TokenBucket(spend.limit, this.now);
      this.buckets.set(key, found);
    }
    return found;
  }
}
