import { NETWORK_ERROR_CODES } from '../common/network-errors';
import { ServiceUnavailableError } from '../common/errors';

/** How long a caller is told to wait before asking again after EC2 could not be reached. */
const RETRY_AFTER_SECONDS = 5;

/**
 * EC2 could not be reached: connection refused or reset, DNS, timeout. Not the caller's fault and not a
 * bug: a 503 the caller may retry (SPEC §9). A mutation may or may not have happened; retrying it is safe
 * because every mutation the service makes is idempotent (ClientToken, terminate, cancel, tag).
 */
export class Ec2UnavailableError extends ServiceUnavailableError {
  constructor(
    readonly region: string,
    readonly operation: string,
    override readonly cause: Error,
  ) {
    super(
      `EC2 in ${region} cannot be reached (${operation}: ${networkCode(cause) ?? cause.message}); try again later`,
      {
        region,
        operation,
        cause: unreachableCode(cause) ?? cause.name,
      },
    );
    this.retryAfterSeconds = RETRY_AFTER_SECONDS;
  }
}

function networkCode(err: Error): string | undefined {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  // Happy-eyeballs connects (IPv4 and IPv6) fail with an AggregateError of each attempt's error.
  const inner = (err as { errors?: unknown }).errors;
  if (Array.isArray(inner)) {
    for (const e of inner) if (e instanceof Error && networkCode(e)) return networkCode(e);
  }
  return undefined;
}

/** True for an error that says EC2 was not reached, as opposed to an answer from EC2. */
export function isUnreachable(err: unknown): err is Error {
  return err instanceof Error && unreachableCode(err) !== undefined;
}

function unreachableCode(err: Error): string | undefined {
  if (err.name === 'TimeoutError') return err.name;
  const code = networkCode(err);
  if (code !== undefined) return NETWORK_ERROR_CODES.has(code) ? code : undefined;
  // A Node error from another realm (a test runner's sandbox) reaches us wrapped by the SDK, its code only in the text.
  if (!err.message.includes('AWS SDK error wrapper for ')) return undefined;
  if (/\bTimeoutError\b|socket hang up/.test(err.message)) return 'TimeoutError';
  return [...NETWORK_ERROR_CODES].find((c) => err.message.includes(c));
}

/**
 * An API request's EC2 call would have waited longer than `EC2_RATE_LIMIT_MAX_WAIT_MS` for this
 * replica's copy of EC2's buckets (a burst, or many callers retrying at once after an outage): a 503 at
 * once, with `Retry-After` the time after which the same call would be let through, and nothing sent to
 * EC2 nor taken from the buckets. Periodic jobs and events have no caller waiting and are never refused.
 */
export class Ec2RateLimitedError extends ServiceUnavailableError {
  constructor(
    readonly region: string,
    readonly operation: string,
    readonly bucket: string,
    readonly waitMs: number,
    readonly maxWaitMs: number,
  ) {
    const retryAfterSeconds = Math.max(1, Math.ceil((waitMs - maxWaitMs) / 1000));
    super(
      `too many EC2 calls queued in this replica: this ${operation} in ${region} would wait ` +
        `${(waitMs / 1000).toFixed(1)} s for the ${bucket} bucket (at most ${maxWaitMs / 1000} s); ` +
        `try again in ${retryAfterSeconds} s`,
      { region, operation, cause: 'rate-limit', bucket, waitMs },
      retryAfterSeconds,
    );
  }
}
