import { ENTITIES } from '../../src/state/entities';
import { tableOf } from '../../src/state/table';
import { createStateHarness, StateHarness } from '../state-harness';

/** `col AS "prop"` or `col` → [col, prop]. */
function pairs(select: string): [string, string][] {
  return select.split(', ').map((item) => {
    const [column, property] = item.split(' AS ');
    return [column, property ? property.replace(/"/g, '') : column];
  });
}

describe('table shapes derived from the entities', () => {
  let h: StateHarness;

  beforeAll(async () => {
    h = await createStateHarness();
  });
  afterAll(() => h.close());

  it.each(ENTITIES.map((e) => [e.name, e] as const))(
    '%s: the select list names every column of the migrated table, under the property TypeORM maps it to',
    async (_name, entity) => {
      const table = tableOf(entity as new () => object);
      const metadata = h.dataSource.getMetadata(entity);
      expect(table.name).toBe(metadata.tableName);
      const selected = pairs(table.select());
      expect(selected).toEqual(metadata.columns.map((c) => [c.databaseName, c.propertyName]));

      const inDatabase: { column_name: string }[] = await h.dataSource.query(
        `SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1`,
        [table.name],
      );
      expect(selected.map(([c]) => c).sort()).toEqual(inDatabase.map((c) => c.column_name).sort());
      expect(table.primaryKey.split(', ')).toEqual(metadata.primaryColumns.map((c) => c.databaseName));
    },
  );
});
