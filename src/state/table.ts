import { getMetadataArgsStorage } from 'typeorm';

type Property<E> = keyof E & string;

interface ColumnShape<E> {
  property: Property<E>;
  /** The column's name in SQL. */
  name: string;
  /** Its SQL type, as the entity declares it (for casts such as `$1::text[]`). */
  type: string;
  primary: boolean;
  /** An array column: `unnest` cannot carry one per row, so bulk rows refuse it. */
  array: boolean;
}

/**
 * Many rows in one statement: each column travels as one array parameter and `unnest` turns the
 * arrays back into rows (`r`). Built from the entity, so every bulk statement of a table has the same
 * columns, types and parameter order.
 */
export interface BulkRows<Row> {
  /** The column names, in order: for `INSERT INTO t (...)`. */
  columns: string;
  /** `unnest($first::type[], ...) AS r(col, ...)`. */
  source(first?: number): string;
  /** `r.col, ...`: the unnested rows' columns, for `INSERT ... SELECT`. */
  select: string;
  /** `col = EXCLUDED.col, ...` for each column not in the primary key: an upsert's "take the new row". */
  updateAll: string;
  /** The parameters `source` expects, in order. */
  values(rows: Row[]): unknown[][];
}

/** A table as its entity describes it: the one place its columns are written. */
export interface Table<E> {
  name: string;
  /** `col AS "property", ...` of every column (of alias `a` when given): rows come back shaped as the entity. */
  select(alias?: string): string;
  /** Its primary key columns, for `ON CONFLICT (...)`. */
  primaryKey: string;
  /** Bulk rows of every column but the `omitted` ones (those the statement sets itself, such as `touched`). */
  rows<K extends Property<E> = never>(...omitted: K[]): BulkRows<Omit<E, K>>;
}

/**
 * Reads the table's shape from the entity's TypeORM decorators. The names are the decorators' (the
 * service sets no naming strategy): `name` where given, else the property's.
 */
export function tableOf<E>(entity: new () => E): Table<E> {
  const storage = getMetadataArgsStorage();
  const table = storage.tables.find((t) => t.target === entity);
  if (!table?.name) throw new Error(`${entity.name} is no entity with a table name`);
  const columns: ColumnShape<E>[] = storage.columns
    .filter((c) => c.target === entity)
    .map((c) => ({
      property: c.propertyName as Property<E>,
      name: c.options.name ?? c.propertyName,
      type: String(c.options.type),
      primary: c.options.primary === true,
      array: c.options.array === true,
    }));
  const as = (c: ColumnShape<E>, prefix: string): string =>
    c.name === c.property ? `${prefix}${c.name}` : `${prefix}${c.name} AS "${c.property}"`;
  return {
    name: table.name,
    select: (alias) => columns.map((c) => as(c, alias ? `${alias}.` : '')).join(', '),
    primaryKey: columns
      .filter((c) => c.primary)
      .map((c) => c.name)
      .join(', '),
    rows: (...omitted) => {
      const kept = columns.filter((c) => !(omitted as string[]).includes(c.property));
      const arrays = kept.filter((c) => c.array).map((c) => c.name);
      if (arrays.length > 0)
        throw new Error(`${table.name}: bulk rows cannot carry array columns (${arrays.join(', ')})`);
      return bulkRows(kept);
    },
  };
}

function bulkRows<E, Row>(columns: ColumnShape<E>[]): BulkRows<Row> {
  const names = columns.map((c) => c.name);
  return {
    columns: names.join(', '),
    source: (first = 1) =>
      `unnest(${columns.map((c, i) => `$${first + i}::${c.type}[]`).join(', ')}) AS r(${names.join(', ')})`,
    select: names.map((n) => `r.${n}`).join(', '),
    updateAll: columns
      .filter((c) => !c.primary)
      .map((c) => `${c.name} = EXCLUDED.${c.name}`)
      .join(', '),
    values: (rows) => columns.map((c) => rows.map((r) => (r as Record<string, unknown>)[c.property] ?? null)),
  };
}
