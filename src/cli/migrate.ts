import 'reflect-metadata';
import { loadConfig } from '../config/app-config';
import { InvalidConfigError } from '../config/env';
import { resolveDatabase } from '../database';
import { createDataSource } from '../state/data-source';

/** `npm run migrate`: applies pending migrations and exits. */
async function main(): Promise<void> {
  const database = await resolveDatabase(loadConfig(), (line) => console.error(line));
  const dataSource = createDataSource(database.config.databaseUrl!, 1, database.config.databaseTls);
  try {
    await dataSource.initialize();
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    console.error(
      applied.length
        ? `applied ${applied.length} migration(s): ${applied.map((m) => m.name).join(', ')}`
        : 'nothing to migrate',
    );
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
    await database.stop();
  }
}

main().catch((err: unknown) => {
  console.error(`ec2-manager migrate: ${err instanceof InvalidConfigError ? err.message : String(err)}`);
  process.exit(1);
});
