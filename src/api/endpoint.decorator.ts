import { applyDecorators, HttpCode, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOperation, ApiResponse } from '@nestjs/swagger';
import { ERROR_STATUS, ErrorCode } from '../common/errors';
import { SCOPE_TEMPLATE } from './auth/auth.guard';
import { SCOPE_PREFIX } from './auth/scopes';
import { ErrorDto } from './dto/error.dto';

export const BEARER = 'bearer';

/** On every answer; documented on every response of the OpenAPI document (see swagger.ts). */
export const REQUEST_ID_HEADER = {
  'X-Request-Id': {
    description:
      "The request's id: the caller's own `X-Request-Id` when it is 1-128 characters of `[A-Za-z0-9._:-]`, " +
      'else a new UUID. It is on every log line of the request; quote it when reporting a problem.',
    schema: { type: 'string' },
  },
};

const EXAMPLE_REQUEST_ID = '3f0e8d9c-2b7a-4c51-9e62-8a1d4b7c6e15';

export interface EndpointOptions {
  /** The operation's name (SPEC §8), used as the OpenAPI operationId. */
  operationId: string;
  summary: string;
  description?: string;
  /** Scope template without the `ec2-manager:` prefix; `<param>` is filled from the route. None: public. */
  scope?: string;
  /** Answers 204 with no body. */
  noContent?: boolean;
  /** When this operation answers 404 `ResourceNotFound`. */
  notFound?: string;
  /** When this operation answers 503 `ServiceUnavailable`, besides the database being unreachable. */
  unavailable?: string;
}

/** One documented error answer, with an example of its own code. */
export function ApiErrorResponse(
  code: ErrorCode,
  description: string,
  message: string,
  details?: Record<string, unknown>,
): MethodDecorator {
  return ApiResponse({
    status: ERROR_STATUS[code],
    type: ErrorDto,
    description: `\`${code}\`: ${description}`,
    example: { code, message, requestId: EXAMPLE_REQUEST_ID, ...(details ? { details } : {}) },
  });
}

/**
 * OpenAPI operation, scope check and documented error answers of one endpoint, in one place. The 400 is
 * dropped again from operations that take no input at all (swagger.ts), so it is never promised in vain.
 */
export function Endpoint(options: EndpointOptions): MethodDecorator {
  const access = options.scope
    ? `**Scope:** \`${SCOPE_PREFIX}${options.scope}\` (a granted scope ending in \`*\` covers any suffix).`
    : '**Scope:** none; no token needed.';
  const decorators = [
    ApiOperation({
      operationId: options.operationId,
      summary: options.summary,
      description: [options.description, access].filter(Boolean).join('\n\n'),
    }),
    ApiErrorResponse(
      'InputError',
      'the request is invalid; `details.reasons` names every broken rule',
      'invalid request: workerType: must be 1-64 characters of [a-zA-Z0-9_-] (got "a:b")',
      {
        reasons: [
          { rule: 'schema', path: 'workerType', message: 'must be 1-64 characters of [a-zA-Z0-9_-] (got "a:b")' },
        ],
      },
    ),
    ApiErrorResponse(
      'InternalError',
      'something broke on our side; the body says nothing more, the log line with this requestId does',
      'Internal server error',
    ),
    ApiErrorResponse(
      'ServiceUnavailable',
      `${options.unavailable ? `${options.unavailable}; or ` : ''}the database or EC2 cannot be reached now. Try again later.`,
      options.unavailable ? `${options.unavailable}` : 'the database is not reachable; try again later',
    ),
  ];
  if (options.notFound) {
    decorators.push(
      ApiErrorResponse('ResourceNotFound', options.notFound, "region eu-north-1 is not one of this service's regions", {
        regions: ['us-east-1', 'us-west-2'],
      }),
    );
  }
  if (options.noContent) decorators.push(HttpCode(204), ApiNoContentResponse({ description: 'Done' }));
  if (options.scope) {
    const example = `${SCOPE_PREFIX}${options.scope.replace(/<(\w+)>/g, (_, p: string) => EXAMPLE_PARAMS[p] ?? p)}`;
    decorators.push(
      SetMetadata(SCOPE_TEMPLATE, options.scope),
      ApiBearerAuth(BEARER),
      ApiErrorResponse(
        'AuthenticationFailed',
        'no token, a malformed Authorization header, or an unknown token',
        'unknown token',
      ),
      ApiErrorResponse(
        'InsufficientScopes',
        'the token is known but lacks the scope this request needs',
        `this request needs the scope ${example}`,
        {
          requiredScope: example,
        },
      ),
    );
  }
  return applyDecorators(...decorators);
}

/** Values for the path parameters in scope examples. */
const EXAMPLE_PARAMS: Record<string, string> = {
  workerType: 'builder',
  region: 'us-east-1',
  id: 'i-0123456789abcdef0',
  name: 'housekeeping',
};
