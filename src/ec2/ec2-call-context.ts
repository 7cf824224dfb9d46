import { AsyncLocalStorage } from 'node:async_hooks';

/** Who is waiting for the EC2 calls made in this async context. */
interface CallerWaiting {
  /** The longest an attempt may wait for the client-side rate limiter before it is refused (ms). */
  maxRateLimitWaitMs: number;
}

const context = new AsyncLocalStorage<CallerWaiting>();

/**
 * Runs `work` as an API request's: a caller is waiting, so an EC2 call that would queue in the rate
 * limiter longer than `maxRateLimitWaitMs` is refused at once (503 + Retry-After) instead of waiting.
 */
export function withCallerWaiting<T>(maxRateLimitWaitMs: number, work: () => T): T {
  return context.run({ maxRateLimitWaitMs }, work);
}

/**
 * Runs `work` with nobody waiting on it (a periodic job, even one asked for by an API request): its EC2
 * calls wait for their tokens however long that takes. Work started outside both is background too.
 */
export function inBackground<T>(work: () => T): T {
  return context.exit(work);
}

/** The bound on a rate-limiter wait in this context, or undefined when nobody is waiting (background). */
export function maxRateLimitWaitMs(): number | undefined {
  return context.getStore()?.maxRateLimitWaitMs;
}
