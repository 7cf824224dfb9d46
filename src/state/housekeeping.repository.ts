import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { HousekeepingOutcome, lifecycleRankSql } from './entities';
import { INSTANCE_ROWS, NewInstance } from './instance.repository';
import { NewSpotRequest, SPOT_REQUEST_ROWS } from './spot-request.repository';
import { tableOf } from './table';

/** A time read from the database (`now()`), kept exact to pass back to it. */
export type DbTime = string & { readonly __dbTime: unique symbol };

export interface ReconcileCounts {
  /** In EC2, not in state: added. */
  missing: number;
  /** In state, not in EC2 (and not touched since the sweep began, nor launched within the grace): removed. */
  extraneous: number;
}

export interface InstanceReconcileCounts extends ReconcileCounts {
  /** In state and in EC2, EC2's state later in the lifecycle than the row's: corrected. */
  corrected: number;
}

/** What a sweep knows besides EC2's listing. */
export interface SweepWindow {
  /** Rows touched from this time on raced the sweep and are left alone. */
  start: DbTime;
  /**
   * EC2's describe lags its launches (SPEC §6.3): a row launched or created less than this many
   * seconds before the sweep began is not removed for being missing from the listing.
   */
  describeLagGraceSeconds: number;
}

const OUTCOMES = tableOf(HousekeepingOutcome);
const OUTCOME_ROWS = OUTCOMES.rows();

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
   * Makes a region's instances in state match `rows`, the live instances EC2 listed (SPEC §6.3):
   * - adds the missing ones (forgetting the spot requests they fulfilled), except an instance logged
   *   leaving (any state past running) after its launch: its end is known, EC2's answer is stale. An
   *   exit logged before its launch time was a stop before a start and does not count;
   * - corrects a row whose state EC2 shows further along (`pending` → `running`), setting its
   *   `last_event` to the sweep's start so that no event older than the sweep undoes it (or keeping a
   *   later one the row already had: a duplicate of that event must not apply again). A correction
   *   backwards is not made: a describe that lags a just-applied event would undo it, and the events
   *   of a stop remove the row anyway;
   * - removes the extraneous ones (see `removeUnlisted`).
   * A row touched after the sweep began raced it and is left alone. Two statements: `tx` makes them one change.
   */
  async reconcileInstances(
    region: string,
    rows: NewInstance[],
    sweep: SweepWindow,
    tx: EntityManager,
  ): Promise<InstanceReconcileCounts> {
    const values = INSTANCE_ROWS.values(rows);
    const start = `$${values.length + 2}::timestamptz`;
    const [counts]: { missing: number; corrected: number }[] = await tx.query(
      `WITH up AS (
         INSERT INTO instances (${INSTANCE_ROWS.columns}, touched)
         SELECT ${INSTANCE_ROWS.select}, clock_timestamp() FROM ${INSTANCE_ROWS.source(2)}
         WHERE r.region = $1 AND NOT EXISTS (SELECT 1 FROM cloudwatch_log l
                           WHERE l.id = r.id AND l.region = $1 AND l.state NOT IN ('pending', 'running')
                             AND l.generated >= r.launched)
         ON CONFLICT (region, id) DO UPDATE SET state = EXCLUDED.state,
           last_event = greatest(instances.last_event, ${start}), touched = clock_timestamp()
         WHERE instances.touched < ${start}
           AND ${lifecycleRankSql('EXCLUDED.state')} > ${lifecycleRankSql('instances.state')}
         RETURNING xmax = 0 AS inserted, spot_request_id
       ), fulfilled AS (
         DELETE FROM spot_requests s USING up
         WHERE up.inserted AND s.region = $1 AND s.id = up.spot_request_id RETURNING 1
       )
       SELECT (count(*) FILTER (WHERE inserted))::int AS missing,
              (count(*) FILTER (WHERE NOT inserted))::int AS corrected,
              (SELECT count(*) FROM fulfilled)::int AS fulfilled
       FROM up`,
      [region, ...values, sweep.start],
    );
    const extraneous = await removeUnlisted(tx, 'instances', region, rows, sweep);
    return { missing: counts.missing, corrected: counts.corrected, extraneous };
  }

  /**
   * Makes a region's spot requests in state match `rows`, the open requests EC2 listed. A request
   * whose instance is already in state was fulfilled and is not added. Two statements: `tx` makes them one change.
   */
  async reconcileSpotRequests(
    region: string,
    rows: NewSpotRequest[],
    sweep: SweepWindow,
    tx: EntityManager,
  ): Promise<ReconcileCounts> {
    const [added]: { missing: number }[] = await tx.query(
      `WITH ins AS (
         INSERT INTO spot_requests (${SPOT_REQUEST_ROWS.columns}, touched)
         SELECT ${SPOT_REQUEST_ROWS.select}, clock_timestamp() FROM ${SPOT_REQUEST_ROWS.source(2)}
         WHERE r.region = $1 AND NOT EXISTS (SELECT 1 FROM instances i WHERE i.region = $1 AND i.spot_request_id = r.id)
         ON CONFLICT (region, id) DO NOTHING
         RETURNING 1
       )
       SELECT count(*)::int AS missing FROM ins`,
      [region, ...SPOT_REQUEST_ROWS.values(rows)],
    );
    const extraneous = await removeUnlisted(tx, 'spot_requests', region, rows, sweep);
    return { missing: added.missing, extraneous };
  }

  async saveOutcome(outcome: HousekeepingOutcome, tx: EntityManager = this.db.manager): Promise<void> {
    await tx.query(
      `INSERT INTO housekeeping_outcomes (${OUTCOME_ROWS.columns})
       SELECT ${OUTCOME_ROWS.select} FROM ${OUTCOME_ROWS.source()}
       ON CONFLICT (${OUTCOMES.primaryKey}) DO UPDATE SET ${OUTCOME_ROWS.updateAll}`,
      OUTCOME_ROWS.values([outcome]),
    );
  }

  /** The last sweep's outcome of each region that has been swept. */
  listOutcomes(tx?: EntityManager): Promise<HousekeepingOutcome[]> {
    return (tx ?? this.db.manager).query(`SELECT ${OUTCOMES.select()} FROM housekeeping_outcomes ORDER BY region`);
  }
}

/**
 * Removes a region's rows that EC2 no longer lists, except those touched after the sweep began (they
 * raced it) and those launched or created within the describe-lag grace before it (EC2 may not list
 * them yet). One anti-join, whatever the fleet size. `table` is one of ours, never input.
 */
async function removeUnlisted(
  tx: EntityManager,
  table: 'instances' | 'spot_requests',
  region: string,
  listed: { id: string }[],
  sweep: SweepWindow,
): Promise<number> {
  const born = table === 'instances' ? 'launched' : 'created';
  const [, count]: [unknown, number] = await tx.query(
    `DELETE FROM ${table} t WHERE t.region = $1 AND t.touched < $3::timestamptz
       AND t.${born} < $3::timestamptz - make_interval(secs => $4)
       AND NOT EXISTS (SELECT 1 FROM unnest($2::text[]) AS e(id) WHERE e.id = t.id)`,
    [region, listed.map((r) => r.id), sweep.start, sweep.describeLagGraceSeconds],
  );
  return count;
}
