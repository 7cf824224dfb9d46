import 'reflect-metadata';
import { DataSource, DataSourceOptions } from 'typeorm';
import { ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';

/** URL parameters through which node-postgres would make up its own TLS settings. */
const URL_TLS_PARAMETERS = ['sslmode', 'ssl', 'sslrootcert', 'sslcert', 'sslkey', 'sslpassword', 'uselibpqcompat'];

/**
 * The connection's TLS: with a CA (DATABASE_CA_FILE), TLS verified against it, certificate and host name.
 * node-postgres lets the URL's parameters override the `ssl` given beside it (and with `sslmode=require`
 * alone verifies against Node's own CAs, which lack RDS's), so they are taken out of the URL here.
 */
export function databaseConnection(
  url: string,
  tls?: { ca: string },
): Pick<DataSourceOptions & { type: 'postgres' }, 'url' | 'ssl'> {
  if (!tls) return { url };
  const parsed = new URL(url);
  for (const name of URL_TLS_PARAMETERS) parsed.searchParams.delete(name);
  return { url: parsed.toString(), ssl: { ca: tls.ca, rejectUnauthorized: true } };
}

/** SPEC §9: connecting to Postgres gives up after this long (a frozen or unreachable server). */
export const CONNECT_TIMEOUT_MS = 5000;
/** How much longer than `statement_timeout` the client waits: past it, the server itself is not answering. */
const QUERY_TIMEOUT_MARGIN_MS = 2000;

/**
 * The one place the TypeORM connection is described. `synchronize` is never on: migrations only.
 * With `statementTimeoutMs`, the server cancels any statement running longer (`statement_timeout`) and
 * the client gives up on one the server never answers (`query_timeout`: a frozen server cancels nothing).
 */
export function dataSourceOptions(
  url: string,
  poolSize = 10,
  statementTimeoutMs?: number,
  tls?: { ca: string },
): DataSourceOptions {
  const timeouts =
    statementTimeoutMs === undefined
      ? {}
      : { statement_timeout: statementTimeoutMs, query_timeout: statementTimeoutMs + QUERY_TIMEOUT_MARGIN_MS };
  return {
    type: 'postgres',
    ...databaseConnection(url, tls),
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    extra: {
      max: poolSize,
      application_name: 'ec2-manager',
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      keepAlive: true,
      ...timeouts,
    },
  };
}

export function createDataSource(url: string, poolSize?: number, tls?: { ca: string }): DataSource {
  return new DataSource(dataSourceOptions(url, poolSize, undefined, tls));
}
