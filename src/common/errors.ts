/** The error codes of SPEC §8, with their HTTP statuses. */
export const ERROR_STATUS = {
  InputError: 400,
  AuthenticationFailed: 401,
  InsufficientScopes: 403,
  ResourceNotFound: 404,
  LimitExceeded: 409,
  ServiceUnavailable: 503,
  InternalError: 500,
} as const;
export type ErrorCode = keyof typeof ERROR_STATUS;

/** One thing wrong with a request: which rule, where, and why. */
export interface Reason {
  /** The rule broken, e.g. `schema`, `key-name`, `availability-zone`, `ec2`. */
  rule: string;
  /** Dotted path of the offending field, when there is one. */
  path?: string;
  message: string;
}

/** An error a caller can act on; the exception filter turns it into `{code, message, requestId, details?}`. */
export class ApiError extends Error {
  /** Sent as `Retry-After`: how long the caller should wait before asking again. */
  retryAfterSeconds?: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = code;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

/** 400: every reason the request cannot be done, in `details.reasons`. */
export class InputError extends ApiError {
  constructor(
    message: string,
    readonly reasons: Reason[] = [],
    extra: Record<string, unknown> = {},
  ) {
    super(
      'InputError',
      message,
      reasons.length > 0 ? { reasons, ...extra } : Object.keys(extra).length ? extra : undefined,
    );
  }

  static of(reasons: Reason[]): InputError {
    const summary = reasons.map((r) => (r.path ? `${r.path}: ${r.message}` : r.message)).join('; ');
    return new InputError(`invalid request: ${summary}`, reasons);
  }
}

export class AuthenticationFailedError extends ApiError {
  constructor(message: string) {
    super('AuthenticationFailed', message);
  }
}

export class InsufficientScopesError extends ApiError {
  constructor(readonly required: string) {
    super('InsufficientScopes', `this request needs the scope ${required}`, { requiredScope: required });
  }
}

export class ResourceNotFoundError extends ApiError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('ResourceNotFound', message, details);
  }
}

/** 409: the request is valid but a limit the operator set leaves no room for it (SPEC §11 `maxInstances`). */
export class LimitExceededError extends ApiError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('LimitExceeded', message, details);
  }
}

export class ServiceUnavailableError extends ApiError {
  constructor(message: string, details?: Record<string, unknown>, retryAfterSeconds?: number) {
    super('ServiceUnavailable', message, details);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/**
 * The one constraint of a field worth reporting: "is mandatory" when it is missing, otherwise its most
 * basic failed rule (class-validator lists the topmost decorator, the type check, last).
 */
export function mainConstraint(constraints: Record<string, string> | undefined): [string, string] | undefined {
  const entries = Object.entries(constraints ?? {});
  return entries.find(([name]) => name === 'isDefined') ?? entries[entries.length - 1];
}
