import 'reflect-metadata';
import { DataSource, DataSourceOptions } from 'typeorm';
import { ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';

/** SPEC §9: connecting to Postgres gives up after this long (a frozen or unreachable server). */
export const CONNECT_TIMEOUT_MS = 5000;
/** How much longer than `statement_timeout` the client waits: past it, the server itself is not answering. */
const QUERY_TIMEOUT_MARGIN_MS = 2000;

/**
 * The one place the TypeORM connection is described. `synchronize` is never on: migrations only.
 * With `statementTimeoutMs`, the server cancels any statement running longer (`statement_timeout`) and
 * the client gives up on one the server never answers (`query_timeout`: a frozen server cancels nothing).
 */
export function dataSourceOptions(url: string, poolSize = 10, statementTimeoutMs?: number): DataSourceOptions {
  const timeouts =
    statementTimeoutMs === undefined
      ? {}
      : { statement_timeout: statementTimeoutMs, query_timeout: statementTimeoutMs + QUERY_TIMEOUT_MARGIN_MS };
  return {
    type: 'postgres',
    url,
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

export function createDataSource(url: string, poolSize?: number): DataSource {
  return new DataSource(dataSourceOptions(url, poolSize));
}
