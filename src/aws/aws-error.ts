import { ApiError } from '../common/errors';

/** What an AWS SDK error carries once it has passed through our clients (see `annotateErrors`). */
export interface AwsCallError extends Error {
  /** EC2's error code, e.g. `InvalidInstanceID.NotFound` (the SDK puts it in `name`). */
  name: string;
  region?: string;
  operation?: string;
  $metadata?: { requestId?: string; httpStatusCode?: number };
}

/**
 * True for an answer of AWS. An `ApiError` thrown inside a client's middleware (a call refused before it
 * was sent) carries `$metadata` too, added by the SDK's retry middleware, but it is no AWS answer.
 */
export function isAwsError(err: unknown): err is AwsCallError {
  return err instanceof Error && !(err instanceof ApiError) && typeof (err as AwsCallError).$metadata === 'object';
}

/** EC2's error code of an SDK error (`InvalidParameterValue`, ...), or undefined for anything else. */
export function awsErrorCode(err: unknown): string | undefined {
  if (!isAwsError(err)) return undefined;
  return (err as { Code?: string }).Code ?? err.name;
}

export function hasAwsErrorCode(err: unknown, ...codes: string[]): boolean {
  const code = awsErrorCode(err);
  return code !== undefined && codes.includes(code);
}

/**
 * Fields for a log line about a failed call: just `{ err }`. The logger's `err` serializer
 * (src/logging/serialize-error.ts) writes its name, code, message, region, operation and AWS's request
 * id (`err.awsRequestId`, never over the line's own `requestId`). Passing `err` directly does the same.
 */
export function awsErrorFields(err: unknown): { err: unknown } {
  return { err };
}
