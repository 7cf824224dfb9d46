import { applyDecorators, HttpCode, SetMetadata } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiOperation,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { SCOPE_TEMPLATE } from './auth/auth.guard';
import { SCOPE_PREFIX } from './auth/scopes';
import { ErrorDto } from './dto/error.dto';

export const BEARER = 'bearer';

export interface EndpointOptions {
  /** The name of SPEC §8, used as the OpenAPI operationId. */
  operationId: string;
  summary: string;
  description?: string;
  /** Scope template without the `ec2-manager:` prefix; `<param>` is filled from the route. None: public. */
  scope?: string;
  /** Answers 204 with no body. */
  noContent?: boolean;
}

/** OpenAPI operation, scope check and documented error answers of one endpoint, in one place. */
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
    ApiBadRequestResponse({ type: ErrorDto, description: '`InputError`: the request is invalid; `details` says why' }),
  ];
  if (options.noContent) decorators.push(HttpCode(204), ApiNoContentResponse({ description: 'Done' }));
  if (options.scope) {
    decorators.push(
      SetMetadata(SCOPE_TEMPLATE, options.scope),
      ApiBearerAuth(BEARER),
      ApiUnauthorizedResponse({ type: ErrorDto, description: '`AuthenticationFailed`: missing or unknown token' }),
      ApiForbiddenResponse({ type: ErrorDto, description: '`InsufficientScopes`: the token lacks the scope' }),
    );
  }
  return applyDecorators(...decorators);
}
