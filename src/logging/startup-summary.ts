import type { AddressInfo } from 'node:net';

export interface StartupFacts {
  mode: 'sandbox' | 'aws';
  /** The address the server really bound. */
  address: AddressInfo;
  database: string;
  cloud: string;
  regions: readonly string[];
  /** Sandbox mode: the development client's token and the file it is kept in. */
  development?: { clientId: string; token: string; file?: string };
}

/**
 * What a person starting the service needs to see, in a few lines: where the API and Swagger UI are,
 * the token to authorise with, and what runs where. JSON logs get the same facts as fields of one line.
 */
export function startupSummary(facts: StartupFacts): { fields: Record<string, unknown>; text: string } {
  const { address, development } = facts;
  const wildcard = address.address === '0.0.0.0' || address.address === '::';
  const host = wildcard ? '127.0.0.1' : address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  const listen = `${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  const fields: Record<string, unknown> = {
    url,
    listen,
    swaggerUi: `${url}/api`,
    mode: facts.mode,
    database: facts.database,
    cloud: facts.cloud,
    regions: facts.regions,
    ...(development
      ? { clientId: development.clientId, bearerToken: development.token, tokenFile: development.file }
      : {}),
  };
  const lines = [
    `ec2-manager is ready (${facts.mode} mode), listening on ${listen}${wildcard ? ' (every interface)' : ''}`,
    `  Swagger UI  ${url}/api`,
    ...(development
      ? [
          `  token       ${development.token}  (paste into Authorize; client ${development.clientId}, every scope` +
            `${development.file ? `; kept in ${development.file}` : ''})`,
        ]
      : []),
    `  database    ${facts.database}`,
    `  cloud       ${facts.cloud}`,
    `  regions     ${facts.regions.join(', ')}`,
  ];
  return { fields, text: lines.join('\n') };
}
