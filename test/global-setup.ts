import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { createDataSource } from '../src/state/data-source';
import { RunningPostgres, startEmbeddedPostgres } from '../src/state/embedded-postgres';

declare global {
  var __EMBEDDED_PG__: { server: RunningPostgres; dir: string } | undefined;
}

/** Template every test file clones its own database from (test/db.ts). Must contain "test". */
const TEMPLATE = `ec2m_test_template_${process.pid}`;

/**
 * One database server per run: the embedded Postgres in a throw-away directory, or the server of
 * `DATABASE_URL` when given. Migrations run once, into a template database.
 */
export default async function globalSetup(): Promise<void> {
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ec2m-test-pg-'));
    fs.chmodSync(dir, 0o755); // the embedded Postgres runs unprivileged when we are root
    const server = await startEmbeddedPostgres({ dataDir: dir, ephemeral: true });
    globalThis.__EMBEDDED_PG__ = { server, dir };
    adminUrl = server.url;
  }

  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE}`);
    await admin.query(`CREATE DATABASE ${TEMPLATE} ENCODING 'UTF8' TEMPLATE template0`);
  } finally {
    await admin.end();
  }
  const templateUrl = withDatabase(adminUrl, TEMPLATE);
  const dataSource = createDataSource(templateUrl, 1);
  await dataSource.initialize();
  await dataSource.runMigrations();
  await dataSource.destroy();

  process.env.TEST_PG_ADMIN_URL = adminUrl;
  process.env.TEST_PG_TEMPLATE = TEMPLATE;
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}
