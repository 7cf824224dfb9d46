import { DataSource } from 'typeorm';

/**
 * Empties every table an entity maps, from the entity metadata, so that a table added later is emptied
 * without anyone remembering to list it. The migrations table is no entity and keeps its history: the
 * schema stays as migrated. `job_runs` is emptied like the rest (a test's job outcomes are its own).
 */
export async function emptyTables(db: DataSource): Promise<void> {
  const tables = db.entityMetadatas.filter((m) => m.tableType === 'regular').map((m) => db.driver.escape(m.tablePath));
  await db.query(`TRUNCATE ${tables.join(', ')} RESTART IDENTITY CASCADE`);
}
