import type { RetryErrorInfo, RetryStrategyV2, StandardRetryToken } from '@smithy/types';

/** EC2 answers these with a 5xx, but asking again at once will not find capacity that is not there. */
const NOT_WORTH_RETRYING = new Set([
  'InsufficientInstanceCapacity',
  'InsufficientCapacity',
  'InsufficientHostCapacity',
  'InsufficientReservedInstanceCapacity',
]);

/** First backoff ceilings: a throttle means a bucket ran dry (EC2's refill one token per 50-500 ms). */
const THROTTLE_BASE_MS = 250;
const TRANSIENT_BASE_MS = 100;
const MAX_DELAY_MS = 10_000;

class Token implements StandardRetryToken {
  constructor(
    private readonly retries: number,
    private readonly delayMs: number,
  ) {}
  getRetryCount(): number {
    return this.retries;
  }
  getRetryDelay(): number {
    return this.delayMs;
  }
  getRetryCost(): number | undefined {
    return undefined;
  }
}

/**
 * The one place an EC2 call backs off. Throttles, timeouts, dropped connections and 5xx are retried with
 * exponential backoff and full jitter (a random wait up to base·2^retry, capped), honouring a
 * Retry-After hint, up to `maxAttempts` attempts in all; anything else fails at once.
 *
 * It replaces the SDK's adaptive mode, which paced every call after a throttle with its own client-side
 * rate limiter on top of our buckets, and the standard mode's retry quota, which stops retrying
 * altogether after a burst of throttles. Every attempt still takes its tokens from our copies of EC2's
 * buckets (`Ec2RateLimiter`), which never shrink: waiting once is enough.
 */
export class Ec2RetryStrategy implements RetryStrategyV2 {
  constructor(
    private readonly maxAttempts: number,
    private readonly random: () => number = Math.random,
    private readonly now: () => number = () => Date.now(),
  ) {}

  acquireInitialRetryToken(): Promise<StandardRetryToken> {
    return Promise.resolve(new Token(0, 0));
  }

  refreshRetryTokenForRetry(token: StandardRetryToken, info: RetryErrorInfo): Promise<StandardRetryToken> {
    const retries = token.getRetryCount();
    if (retries + 1 >= this.maxAttempts || !isRetryable(info)) {
      return Promise.reject(new Error('not retried'));
    }
    return Promise.resolve(new Token(retries + 1, this.delay(retries, info)));
  }

  recordSuccess(): void {}

  /** The wait before retry number `retries + 1`. */
  delay(retries: number, info: RetryErrorInfo): number {
    const base = info.errorType === 'THROTTLING' ? THROTTLE_BASE_MS : TRANSIENT_BASE_MS;
    const ceiling = Math.min(MAX_DELAY_MS, base * 2 ** retries);
    const jittered = Math.floor(this.random() * ceiling);
    const hinted = info.retryAfterHint ? info.retryAfterHint.getTime() - this.now() : 0;
    return Math.min(MAX_DELAY_MS, Math.max(jittered, hinted));
  }
}

function isRetryable(info: RetryErrorInfo): boolean {
  if (info.errorType === 'CLIENT_ERROR') return false;
  return !NOT_WORTH_RETRYING.has(info.error?.name ?? '');
}
