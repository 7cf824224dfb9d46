import { createDataSource } from '../../src/state/data-source';
import { MIGRATIONS } from '../../src/state/migrations';
import { createTestDatabase, TestDatabase } from '../db';

describe('state schema', () => {
  let db: TestDatabase;
  beforeAll(async () => (db = await createTestDatabase()));
  afterAll(() => db.drop());

  it('is exactly what the entities describe: migrations and entities never drift apart', async () => {
    const ds = createDataSource(db.url, 1);
    await ds.initialize();
    try {
      const diff = await ds.driver.createSchemaBuilder().log();
      expect(diff.upQueries.map((q) => q.query)).toEqual([]);
      expect(await ds.showMigrations()).toBe(false);
    } finally {
      await ds.destroy();
    }
  });

  it('migrates down to nothing and up again', async () => {
    const ds = createDataSource(db.url, 1);
    await ds.initialize();
    try {
      for (let i = 0; i < MIGRATIONS.length; i++) await ds.undoLastMigration();
      const tables: { n: string }[] = await ds.query(
        `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'migrations'`,
      );
      expect(tables[0].n).toBe(0);
      expect(await ds.showMigrations()).toBe(true);
      await ds.runMigrations();
      expect(await ds.showMigrations()).toBe(false);
    } finally {
      await ds.destroy();
    }
  });
});
