import { inspect } from 'node:util';

/** What every log line says about an error, under `err` (SPEC §9: name, code, message, AWS request id). */
export interface SerializedError {
  /** The error's class or AWS's error name, e.g. `TypeError`, `InvalidInstanceID.NotFound`, `QueryFailedError`. */
  name: string;
  /** A code to search for: EC2's error code, Node's `ECONNREFUSED`, Postgres' SQLSTATE, an API error code. */
  code?: string;
  message: string;
  /** AWS's id of the failed request: what AWS support asks for. Never under `requestId`, which is ours. */
  awsRequestId?: string;
  /** Where an AWS call failed (set by the clients' error annotation). */
  region?: string;
  operation?: string;
  httpStatusCode?: number;
  stack?: string;
  /** The inner errors of an AggregateError (a connection refused on every address of localhost, ...). */
  errors?: SerializedError[];
  cause?: SerializedError;
}

const MAX_DEPTH = 3;
const MAX_INNER = 5;

interface ErrorLike {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  Code?: unknown;
  stack?: unknown;
  region?: unknown;
  operation?: unknown;
  errors?: unknown;
  cause?: unknown;
  $metadata?: { requestId?: unknown; httpStatusCode?: unknown };
}

const text = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

/** `Error` tells nothing: a subclass that kept the default name says more by its class name. */
function nameOf(err: Error): string {
  const ctor = err.constructor?.name;
  if (err.name === 'Error' && ctor && ctor !== 'Error' && ctor !== 'Object') return ctor;
  return err.name || ctor || 'Error';
}

/**
 * The `err` serializer of every logger of the service (pino applies it to the `err` key of any line).
 * Takes whatever it is given, so no call site can produce `err: {}`: an Error (with AWS's fields, Node's
 * and Postgres' codes, inner and causing errors), a value pino already serialised (its `raw` is the
 * original), or something that is not an Error at all (kept as its text, named `NonError`).
 */
export function serializeError(value: unknown, depth = 0): SerializedError {
  const raw = (value as { raw?: unknown } | null)?.raw;
  if (raw instanceof Error) return serializeError(raw, depth);
  if (!(value instanceof Error)) {
    if (typeof value === 'object' && value !== null && text((value as ErrorLike).message)) {
      const e = value as ErrorLike;
      return { name: text(e.name) ?? 'NonError', code: text(e.code), message: String(e.message) };
    }
    return { name: 'NonError', message: typeof value === 'string' ? value : inspect(value, { depth: 2 }) };
  }
  const e = value as Error & ErrorLike;
  const inner =
    Array.isArray(e.errors) && depth < MAX_DEPTH
      ? e.errors.slice(0, MAX_INNER).map((x: unknown) => serializeError(x, depth + 1))
      : undefined;
  const out: SerializedError = {
    name: nameOf(e),
    // Node's network errors put their code on the error (and on an AggregateError around them).
    code: text(e.Code) ?? text(e.code) ?? (typeof e.code === 'number' ? String(e.code) : undefined),
    // An AggregateError's own message is often empty: its inner errors say what happened.
    message: e.message || inner?.map((i) => i.message).join('; ') || '(no message)',
  };
  if (e.$metadata && typeof e.$metadata === 'object') {
    out.code ??= e.name;
    const id = text(e.$metadata.requestId);
    if (id) out.awsRequestId = id;
    if (typeof e.$metadata.httpStatusCode === 'number') out.httpStatusCode = e.$metadata.httpStatusCode;
  }
  if (text(e.region)) out.region = e.region as string;
  if (text(e.operation)) out.operation = e.operation as string;
  if (text(e.stack)) out.stack = e.stack;
  if (inner?.length) out.errors = inner;
  if (e.cause !== undefined && depth < MAX_DEPTH) out.cause = serializeError(e.cause, depth + 1);
  return out;
}
