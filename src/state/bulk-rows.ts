import type { NewInstance } from './instance.repository';
import type { NewSpotRequest } from './spot-request.repository';

/**
 * Many rows in one statement: each column travels as one array parameter and `unnest` turns the
 * arrays back into rows (`r`). One description per table keeps every bulk statement's columns,
 * types and parameter order the same.
 */
export interface BulkRows<Row> {
  /** `unnest($first::type[], ...) AS r(col, ...)`. */
  source(first?: number): string;
  /** The column names, in order: for `INSERT INTO t (...)` and `SELECT r.col, ...`. */
  columns: string[];
  /** The parameters `source` expects, in order. */
  values(rows: Row[]): unknown[][];
}

export function bulkRows<Row>(
  spec: [column: string, type: 'text' | 'timestamptz', value: (row: Row) => unknown][],
): BulkRows<Row> {
  return {
    source: (first = 1) =>
      `unnest(${spec.map(([, type], i) => `$${first + i}::${type}[]`).join(', ')}) AS r(${spec.map(([c]) => c).join(', ')})`,
    columns: spec.map(([c]) => c),
    values: (rows) => spec.map(([, , value]) => rows.map(value)),
  };
}

export const INSTANCE_ROWS = bulkRows<NewInstance>([
  ['region', 'text', (r) => r.region],
  ['id', 'text', (r) => r.id],
  ['worker_type', 'text', (r) => r.workerType],
  ['az', 'text', (r) => r.az],
  ['instance_type', 'text', (r) => r.instanceType],
  ['state', 'text', (r) => r.state],
  ['spot_request_id', 'text', (r) => r.spotRequestId],
  ['image_id', 'text', (r) => r.imageId],
  ['launched', 'timestamptz', (r) => r.launched],
  ['last_event', 'timestamptz', (r) => r.lastEvent],
]);

export const SPOT_REQUEST_ROWS = bulkRows<NewSpotRequest>([
  ['region', 'text', (r) => r.region],
  ['id', 'text', (r) => r.id],
  ['worker_type', 'text', (r) => r.workerType],
  ['az', 'text', (r) => r.az],
  ['instance_type', 'text', (r) => r.instanceType],
  ['state', 'text', (r) => r.state],
  ['status', 'text', (r) => r.status],
  ['image_id', 'text', (r) => r.imageId],
  ['created', 'timestamptz', (r) => r.created],
]);

/** `r.col, ...` for a SELECT from the unnested rows. */
export function fromRows(rows: BulkRows<unknown>): string {
  return rows.columns.map((c) => `r.${c}`).join(', ');
}
