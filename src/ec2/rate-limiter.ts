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
    const waitMs = this.waitFor(n);
    this.tokens -= n;
    return waitMs;
  }

  /** How long a caller taking `n` tokens now would wait (ms), taking nothing. */
  waitFor(n = 1): number {
    this.refill();
    const after = this.tokens - n;
    return after >= 0 ? 0 : Math.ceil((-after / this.limit.refillPerSecond) * 1000);
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

/** One attempt's place in the limiter's queue. */
export interface Reservation {
  /** How long the attempt waits (or, refused, would have waited) for its tokens (ms). */
  waitMs: number;
  spends: Spend[];
  /** True when the wait was over the caller's bound: nothing was taken and the attempt must not be sent. */
  refused: boolean;
  /** The spend whose bucket makes the attempt wait longest (the request bucket when none makes it wait). */
  scarcest: Spend;
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

  /**
   * Reserves the tokens of one attempt; returns how long to wait before sending it (ms). With `maxWaitMs`
   * (a caller is waiting), an attempt that would wait longer is refused up front: `refused`, with the wait
   * it would have had and the bucket that would have kept it, and no token taken — a refused caller leaves
   * the queue as it was, so the callers behind it wait no longer.
   */
  reserve(region: string, action: string, input: object, maxWaitMs?: number): Reservation {
    const spends = spendsOf(action, input, this.limits);
    let waitMs = 0;
    let scarcest = spends[0];
    for (const spend of spends) {
      const wait = this.bucket(region, spend).waitFor(spend.tokens);
      if (wait > waitMs) [waitMs, scarcest] = [wait, spend];
    }
    if (maxWaitMs !== undefined && waitMs > maxWaitMs) return { waitMs, spends, refused: true, scarcest };
    for (const spend of spends) this.bucket(region, spend).reserve(spend.tokens);
    return { waitMs, spends, refused: false, scarcest };
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
