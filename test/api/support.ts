import { createHash } from 'node:crypto';
import request from 'supertest';
import { AppHarness, AppHarnessOptions, createAppHarness } from '../app-harness';

const sha = (t: string): string => createHash('sha256').update(t).digest('hex');

/** Tokens of the test clients, each with its scopes (API_CLIENTS holds only their hashes). */
export const TOKENS = {
  admin: 'admin-token-0123456789',
  builder: 'builder-token-0123456789',
  internals: 'internals-token-0123456789',
  none: 'no-scopes-token-0123456789',
};

export const API_CLIENTS = JSON.stringify([
  { clientId: 'admin', tokenSha256: sha(TOKENS.admin), scopes: ['ec2-manager:*'] },
  { clientId: 'builder', tokenSha256: sha(TOKENS.builder), scopes: ['ec2-manager:manage-resources:builder'] },
  { clientId: 'internals', tokenSha256: sha(TOKENS.internals), scopes: ['ec2-manager:internals'] },
  { clientId: 'none', tokenSha256: sha(TOKENS.none), scopes: [] },
]);

export function createApiHarness(options: AppHarnessOptions = {}): Promise<AppHarness> {
  return createAppHarness({ ...options, env: { API_CLIENTS, ...options.env } });
}

export const bearer = (token: string): Record<string, string> => ({ Authorization: `Bearer ${token}` });

export function api(h: AppHarness) {
  return request(h.app.getHttpServer());
}
