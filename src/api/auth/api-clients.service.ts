import { Injectable, Logger } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import { AppConfig } from '../../config/app-config';
import { newDevelopmentToken } from './development-token';
import { SCOPE_PREFIX } from './scopes';

export interface ApiClient {
  clientId: string;
  scopes: readonly string[];
}

interface StoredClient extends ApiClient {
  tokenSha256: Buffer;
}

export const DEVELOPMENT_CLIENT_ID = 'sandbox-developer';

export function sha256(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/**
 * The callers allowed to change things (API_CLIENTS), known only by the SHA-256 of their tokens. In
 * sandbox mode a development client holding every scope is added, with the token main.ts keeps in the
 * data directory (made up for this process when there is none, as in tests): shown by main.ts's start-up
 * summary, never logged anywhere else.
 */
@Injectable()
export class ApiClients {
  private readonly log = new Logger(ApiClients.name);
  private readonly clients: StoredClient[];
  /** The development client's token (sandbox mode only). */
  readonly developmentToken?: string;

  constructor(config: AppConfig) {
    this.clients = config.apiClients.map((c) => ({
      clientId: c.clientId,
      scopes: [...c.scopes],
      tokenSha256: Buffer.from(c.tokenSha256, 'hex'),
    }));
    if (config.awsMode === 'sandbox') {
      this.developmentToken = config.developmentToken ?? newDevelopmentToken();
      this.clients.push({
        clientId: DEVELOPMENT_CLIENT_ID,
        scopes: [`${SCOPE_PREFIX}*`],
        tokenSha256: sha256(this.developmentToken),
      });
    }
    this.log.log({ msg: 'API clients configured', clients: this.clients.map((c) => c.clientId) });
  }

  /**
   * The client holding this token, or null. Every client is compared, in constant time, so the answer
   * takes as long whether or not (and wherever) a client matches.
   */
  authenticate(token: string): ApiClient | null {
    const presented = sha256(token);
    let found: StoredClient | null = null;
    for (const client of this.clients) {
      if (client.tokenSha256.length === presented.length && timingSafeEqual(client.tokenSha256, presented)) {
        found ??= client;
      }
    }
    return found ? { clientId: found.clientId, scopes: found.scopes } : null;
  }
}
