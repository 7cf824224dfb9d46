import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { withDatabase } from './global-setup';

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

function adminUrl(): string {
  const url = process.env.TEST_PG_ADMIN_URL;
  if (!url) throw new Error('TEST_PG_ADMIN_URL is unset: run the tests through jest (test/global-setup.ts)');
  return url;
}

/**
 * A database of this test file's own, cloned from the migrated template. Refuses any name without
 * "test" so that a mistaken URL can never point a test at real data.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const template = process.env.TEST_PG_TEMPLATE!;
  const name = `${template.replace('template', 'file')}_${randomBytes(4).toString('hex')}`;
  if (!name.includes('test') || !template.includes('test')) throw new Error(`refusing non-test database ${name}`);
  const admin = new Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    // Two files cloning at once can collide on the template's lock: retry briefly.
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
        break;
      } catch (err) {
        if (attempt >= 20 || !/being accessed by other users/.test(String(err))) throw err;
        await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
      }
    }
  } finally {
    await admin.end();
  }
  return {
    name,
    url: withDatabase(adminUrl(), name),
    async drop() {
      const c = new Client({ connectionString: adminUrl() });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
