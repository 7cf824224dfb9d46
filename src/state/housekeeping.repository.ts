import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { fromRows, INSTANCE_ROWS, SPOT_REQUEST_ROWS } from './bulk-rows';
import { HousekeepingOutcome } from './entities';
import { NewInstance } from './instance.repository';
import { NewSpotRequest } from './spot-request.repository';

/** A time read from the database (`now()`), kept exact to pass back to it. */
export type DbTime = string & { readonly __dbTime: unique symbol };

export interface ReconcileCounts {
  /** In EC2, not in state: added. */
  missing: number;
  /** In state, not in EC2 (and not touched since the sweep began): removed. */
  extraneous: number;
}

const OUTCOME_COLUMNS = `region, started, finished, duration_ms AS "durationMs", missing_instances AS "missingInstances",
  missing_spot_requests AS "missingSpotRequests", extraneous_instances AS "extraneousInstances",
  extraneous_spot_requests AS "extraneousSpotRequests", zombies_killed AS "zombiesKilled", tagged, error`;

/**
 * The set operations of a housekeeping sweep (SPEC §6): each reconciles a whole region with what EC2
 * listed in a few statements, whatever the fleet size — never a query per row.
 */
@Injectable()
export class HousekeepingRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * The database's clock, at its full (microsecond) precision: `touched` is set by it, so a sweep's
   * start must be read from it too, and not through a millisecond Date, or rows touched just before
   * the sweep would look as if they raced it.
   */
  async now(tx?: EntityManager): Promise<DbTime> {
    const [row]: { now: string }[] = await (tx ?? this.db.manager).query(`SELECT clock_timestamp()::text AS now`);
    return row.now as DbTime;
  }

  /**
   * Makes a region's instances in state match `rows`, the live instances EC2 listed: adds the missing
   * ones (forgetting the spot requests they fulfilled) and removes the extraneous ones. A row touched
   * after `sweepStart` raced the sweep and is left alone; an instance whose end (any state past
   * running) was already logged from an event is not brought back.
   */
  async reconcileInstances(region: string, rows: NewInstance[], sweepStart: DbTime): Promise<ReconcileCounts> {
    return this.db.transaction(async (m) => {
      const [added]: { missing: number }[] = await m.query(
        `WITH ins AS (
           INSERT INTO instances (${INSTANCE_ROWS.columns.join(', ')}, touched)
           SELECT ${fromRows(INSTANCE_ROWS)}, clock_timestamp() FROM ${INSTANCE_ROWS.source(2)}
           WHERE r.region = $1 AND NOT EXISTS (SELECT 1 FROM cloudwatch_log l
                             WHERE l.id = r.id AND l.region = $1 AND l.state NOT IN ('pending', 'running'))
           ON CONFLICT (region, id) DO NOTHING
           RETURNING spot_request_id
         ), fulfilled AS (
           DELETE FROM spot_requests s USING ins WHERE s.region = $1 AND s.id = ins.spot_request_id RETURNING 1
         )
         SELECT (SELECT count(*) FROM ins)::int AS missing, (SELECT count(*) FROM fulfilled)::int AS fulfilled`,
        [region, ...INSTANCE_ROWS.values(rows)],
      );
      const extraneous = await removeUnlisted(m, 'instances', region, rows, sweepStart);
      return { missing: added.missing, extraneous };
    });
  }

  /**
   * Makes a region's spot requests in state match `rows`, the open requests EC2 listed. A request
   * whose instance is already in state was fulfilled and is not added.
   */
  async reconcileSpotRequests(region: string, rows: NewSpotRequest[], sweepStart: DbTime): Promise<ReconcileCounts> {
    return this.db.transaction(async (m) => {
      const [added]: { missing: number }[] = await m.query(
        `WITH ins AS (
           INSERT INTO spot_requests (${SPOT_REQUEST_ROWS.columns.join(', ')}, touched)
           SELECT ${fromRows(SPOT_REQUEST_ROWS)}, clock_timestamp() FROM ${SPOT_REQUEST_ROWS.source(2)}
           WHERE r.region = $1 AND NOT EXISTS (SELECT 1 FROM instances i WHERE i.region = $1 AND i.spot_request_id = r.id)
           ON CONFLICT (region, id) DO NOTHING
           RETURNING 1
         )
         SELECT count(*)::int AS missing FROM ins`,
        [region, ...SPOT_REQUEST_ROWS.values(rows)],
      );
      const extraneous = await removeUnlisted(m, 'spot_requests', region, rows, sweepStart);
      return { missing: added.missing, extraneous };
    });
  }

  async saveOutcome(outcome: HousekeepingOutcome, tx?: EntityManager): Promise<void> {
    const o = outcome;
    await (tx ?? this.db.manager).query(
      `INSERT INTO housekeeping_outcomes (region, started, finished, duration_ms, missing_instances,
         missing_spot_requests, extraneous_instances, extraneous_spot_requests, zombies_killed, tagged, error)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
       ON CONFLICT (region) DO UPDATE SET started = EXCLUDED.started, finished = EXCLUDED.finished,
         duration_ms = EXCLUDED.duration_ms, missing_instances = EXCLUDED.missing_instances,
         missing_spot_requests = EXCLUDED.missing_spot_requests, extraneous_instances = EXCLUDED.extraneous_instances,
         extraneous_spot_requests = EXCLUDED.extraneous_spot_requests, zombies_killed = EXCLUDED.zombies_killed,
         tagged = EXCLUDED.tagged, error = EXCLUDED.error`,
      [
        o.region,
        o.started,
        o.finished,
        o.durationMs,
        o.missingInstances,
        o.missingSpotRequests,
        o.extraneousInstances,
        o.extraneousSpotRequests,
        o.zombiesKilled,
        o.tagged,
        o.error,
      ],
    );
  }

  /** The last sweep's outcome of each region that has been swept. */
  listOutcomes(tx?: EntityManager): Promise<HousekeepingOutcome[]> {
    return (tx ?? this.db.manager).query(`SELECT ${OUTCOME_COLUMNS} FROM housekeeping_outcomes ORDER BY region`);
  }
}

/**
 * Removes a region's rows that EC2 no longer lists, except those touched after the sweep began (they
 * raced it). One anti-join, whatever the fleet size. `table` is one of ours, never input.
 */
async function removeUnlisted(
  m: EntityManager,
  table: 'instances' | 'spot_requests',
  region: string,
  listed: { id: string }[],
  sweepStart: DbTime,
): Promise<number> {
  const [, count]: [unknown, number] = await m.query(
    `DELETE FROM ${table} t WHERE t.region = $1 AND t.touched < $3::timestamptz
       AND NOT EXISTS (SELECT 1 FROM unnest($2::text[]) AS e(id) WHERE e.id = t.id)`,
    [region, listed.map((r) => r.id), sweepStart],
  );
  return count;
}
