import { DataSource } from 'typeorm';
import { AppHarness, createAppHarness } from '../app-harness';
import { createStateHarness, StateHarness } from '../state-harness';

/** Every table the migrations made, from the catalog (not from the entities the reset itself reads). */
async function tables(db: DataSource): Promise<string[]> {
  const rows: { table_name: string }[] = await db.query(
    `SELECT table_name FROM information_schema.tables
      WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`,
  );
  return rows.map((r) => r.table_name);
}

/**
 * One row in every table: text columns 'x' (so that a foreign key finds the row of its parent), numbers 1,
 * booleans true, times now; serial columns take their default. A table whose parent is not filled yet
 * is tried again after the others.
 */
async function fillEveryTable(db: DataSource): Promise<void> {
  const columns: { table_name: string; column_name: string; data_type: string; column_default: string | null }[] =
    await db.query(
      `SELECT table_name, column_name, data_type, column_default FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name <> 'migrations'`,
    );
  const value = (type: string): string => {
    if (type === 'text' || type.startsWith('character')) return `'x'`;
    if (type === 'boolean') return 'true';
    if (type.startsWith('timestamp') || type === 'date') return 'now()';
    if (['integer', 'bigint', 'smallint', 'double precision', 'numeric', 'real'].includes(type)) return '1';
    if (type === 'jsonb') return `'{}'`;
    if (type === 'uuid') return `'00000000-0000-0000-0000-000000000000'`;
    if (type === 'ARRAY') return `ARRAY['x']`;
    throw new Error(`no test value for column type ${type}: teach fillEveryTable`);
  };
  let pending = [...new Set(columns.map((c) => c.table_name))];
  while (pending.length > 0) {
    const failed: string[] = [];
    for (const table of pending) {
      const cols = columns.filter((c) => c.table_name === table && !c.column_default?.startsWith('nextval('));
      await db
        .query(
          `INSERT INTO "${table}" (${cols.map((c) => `"${c.column_name}"`).join(', ')})
           VALUES (${cols.map((c) => value(c.data_type)).join(', ')})`,
        )
        .catch((err: { code?: string }) => {
          if (err.code !== '23503') throw err; // foreign key: its parent comes later in this pass
          failed.push(table);
        });
    }
    if (failed.length === pending.length) throw new Error(`cannot fill ${failed.join(', ')}`);
    pending = failed;
  }
}

async function rowCounts(db: DataSource): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const t of await tables(db)) {
    counts[t] = Number((await db.query(`SELECT count(*) AS n FROM "${t}"`))[0].n);
  }
  return counts;
}

/** Every state table empty, the migration history kept. */
async function expectEmptied(db: DataSource): Promise<void> {
  const counts = await rowCounts(db);
  const { migrations, ...state } = counts;
  expect(Object.keys(state).length).toBeGreaterThanOrEqual(11);
  expect(state).toEqual(Object.fromEntries(Object.keys(state).map((t) => [t, 0])));
  expect(migrations).toBeGreaterThan(0);
}

describe('test harness reset', () => {
  let state: StateHarness;
  let app: AppHarness;
  beforeAll(async () => {
    state = await createStateHarness();
    app = await createAppHarness();
  });
  afterAll(async () => {
    await state.close();
    await app.close();
  });

  it('state harness: empties every table the migrations made, keeping the migration history', async () => {
    await fillEveryTable(state.dataSource);
    const filled = await rowCounts(state.dataSource);
    expect(Object.values(filled).every((n) => n > 0)).toBe(true);
    await state.truncate();
    await expectEmptied(state.dataSource);
  });

  it('app harness: empties every table the migrations made, keeping the migration history', async () => {
    await fillEveryTable(app.dataSource);
    await app.reset();
    await expectEmptied(app.dataSource);
  });
});
