import { NETWORK_ERROR_CODES } from '../common/network-errors';
import { ApiError, ServiceUnavailableError } from '../common/errors';

/** How long a caller is told to wait before asking again while the database cannot be reached. */
const RETRY_AFTER_SECONDS = 5;

/**
 * SQLSTATEs that say the server cannot serve us now, not that the statement is wrong: connection
 * exceptions (class 08), shutting down or starting up (57P01-57P03), a statement cancelled by
 * `statement_timeout` (57014), too many connections (53300).
 */
const UNAVAILABLE_SQLSTATE = /^(08...|57P0[123]|57014|53300)$/;

/**
 * What node-postgres and pg-pool say when a connection broke, timed out or was closed under a query; and
 * what TypeORM says to the next statement of a transaction whose connection broke (it releases the
 * transaction's query runner when the connection errors: QueryRunnerProviderAlreadyReleasedError).
 */
const UNAVAILABLE_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Query read timeout|is not queryable|Client was closed|the database system is (starting up|shutting down|in recovery mode)|connection provided by a query runner was already released/i;

/**
 * The state database could not be reached or did not answer in time (SPEC §9): a 503 the caller may
 * retry, never a 500. Its `details.cause` names the database, so a caller can tell it from EC2's 503.
 */
export class DatabaseUnavailableError extends ServiceUnavailableError {
  constructor(override readonly cause: unknown) {
    super(
      `the state database (Postgres) cannot be reached or did not answer in time (${describe(cause)}); try again later`,
      { cause: 'database' },
      RETRY_AFTER_SECONDS,
    );
  }
}

function describe(err: unknown): string {
  const { code, message } = (typeof err === 'object' && err !== null ? err : {}) as { code?: unknown; message?: unknown };
  if (typeof message !== 'string') return String(err);
  return typeof code === 'string' ? `${code}: ${message}` : message;
}

/**
 * True for an error that says Postgres was not reached or did not answer: a network failure, a timeout,
 * a server shutting down. Looks through TypeORM's `QueryFailedError.driverError`, `cause` and the
 * per-address errors of an `AggregateError`.
 */
export function isDatabaseUnavailable(err: unknown, depth = 0): boolean {
  // Not `instanceof Error`: node's own errors may come from another realm (a test runner's sandbox).
  if (typeof err !== 'object' || err === null || depth > 4) return false;
  if (err instanceof DatabaseUnavailableError) return true;
  // Already an answer (EC2 unreachable is a 503 of its own), or an AWS call's error: network codes there are not ours.
  if (err instanceof ApiError) return false;
  const { code, message, driverError, cause, errors, $metadata, operation } = err as {
    code?: unknown;
    message?: unknown;
    driverError?: unknown;
    cause?: unknown;
    errors?: unknown;
    $metadata?: unknown;
    operation?: unknown;
  };
  if ($metadata !== undefined || typeof operation === 'string') return false;
  if (typeof code === 'string' && (NETWORK_ERROR_CODES.has(code) || UNAVAILABLE_SQLSTATE.test(code))) return true;
  if (typeof message === 'string' && UNAVAILABLE_MESSAGES.test(message)) return true;
  const inner = [driverError, cause, ...(Array.isArray(errors) ? (errors as unknown[]) : [])];
  return inner.some((e) => isDatabaseUnavailable(e, depth + 1));
}

/** The error as a 503 when it says the database is unavailable; otherwise undefined. */
export function asDatabaseUnavailable(err: unknown): DatabaseUnavailableError | undefined {
  if (err instanceof DatabaseUnavailableError) return err;
  return isDatabaseUnavailable(err) ? new DatabaseUnavailableError(err) : undefined;
}
