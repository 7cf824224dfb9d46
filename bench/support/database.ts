import { AppConfig } from '../../src/config/app-config';
import { resolveDatabase } from '../../src/database';
import { createDataSource } from '../../src/state/data-source';
import { emptyTables } from '../../test/support/tables';

export interface BenchDatabase {
  url: string;
  /** Stops the embedded Postgres this process started (nothing for `DATABASE_URL`'s server). */
  stop(): Promise<void>;
}

/**
 * The state database a benchmark runs on, migrated and emptied: `DATABASE_URL`'s server when set,
 * otherwise an embedded Postgres with its data in `.data/bench-<name>` (created on first use, kept
 * between runs so that only the first pays for `initdb`).
 */
export async function benchDatabase(name: string): Promise<BenchDatabase> {
  const config = AppConfig.fromEnv({
    ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
    DATA_DIR: `.data/bench-${name}`,
  });
  const database = await resolveDatabase(config, () => undefined);
  try {
    const url = database.config.databaseUrl!;
    const ds = createDataSource(url, 1);
    await ds.initialize();
    try {
      await ds.runMigrations({ transaction: 'each' });
      await emptyTables(ds);
    } finally {
      await ds.destroy();
    }
    return { url, stop: () => database.stop() };
  } catch (err) {
    await database.stop();
    throw err;
  }
}
