import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { HttpRequest } from '../http-types';
import { AuthenticationFailedError, InsufficientScopesError } from '../../common/errors';
import { ApiClient, ApiClients } from './api-clients.service';
import { expandScope, hasScope } from './scopes';

export const SCOPE_TEMPLATE = 'ec2-manager:scope-template';

export type AuthenticatedRequest = HttpRequest & { client?: ApiClient };

/**
 * Bearer-token authentication and scope checks for endpoints that name a scope; read-only endpoints
 * name none and need no token. Runs before validation: an unknown caller learns nothing of the body rules.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly clients: ApiClients,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const template = this.reflector.get<string | undefined>(SCOPE_TEMPLATE, context.getHandler());
    if (template === undefined) return true;
    const req = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const header = req.headers.authorization;
    if (!header) throw new AuthenticationFailedError('this request needs an Authorization: Bearer <token> header');
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw new AuthenticationFailedError('the Authorization header must be "Bearer <token>"');
    const client = this.clients.authenticate(match[1]);
    if (!client) throw new AuthenticationFailedError('unknown token');
    const required = expandScope(template, req.params);
    if (!hasScope(client.scopes, required)) throw new InsufficientScopesError(required);
    req.client = client;
    return true;
  }
}
