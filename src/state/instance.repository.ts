import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { ResourceFilter, resourceWhere } from './resource-filter';
import {
  Instance,
  InstanceState,
  isLiveInstanceState,
  lifecycleRank,
  lifecycleRankSql,
  OwnTerminationReason,
} from './entities';
import { tableOf } from './table';

export type NewInstance = Omit<Instance, 'touched'>;

export type InstanceFilter = ResourceFilter<InstanceState>;

/** What is known of an instance that ends, for the record of one state never held (see `LeaveCause`). */
export type EndingInstance = Pick<Instance, 'id' | 'workerType' | 'instanceType' | 'az' | 'spotRequestId' | 'launched'>;

/**
 * Why instances leave state, given by whoever removes them (the `terminations` trigger records it).
 * `reason`: our own decision. `at`: when they ended (an event's time), else the removal's.
 * `instances`: what EC2 said of them, to record one that ended before it ever was in state.
 */
export interface LeaveCause {
  reason?: OwnTerminationReason;
  at?: Date;
  instances?: readonly EndingInstance[];
}

/** What applying a state-change event did. */
export type EventOutcome = 'updated' | 'removed' | 'out-of-order' | 'absent';

/** An instance state-change event, as state applies it. */
export interface StateChange {
  id: string;
  state: string;
  time: Date;
}

/**
 * SPEC §3's order of events: by time, and within one second by the lifecycle (the tie rule). The one
 * place it is decided; `upsertMany` says the same in SQL for rows (adoption), where an equal state
 * also applies.
 */
export function isNewerEvent(event: { time: Date; state: string }, than: { time: Date; state: string }): boolean {
  if (event.time.getTime() !== than.time.getTime()) return event.time.getTime() > than.time.getTime();
  return lifecycleRank(event.state) > lifecycleRank(than.state);
}

const INSTANCES = tableOf(Instance);
/** An instance as we write it; `touched` is the database's clock at the write. */
export const INSTANCE_ROWS = INSTANCES.rows('touched');

@Injectable()
export class InstanceRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Inserts or refreshes one instance and forgets the spot request it fulfilled, in one statement. An
   * existing row carrying a newer event is left as it is, and so is one whose event has the same time
   * and a later state (the tie rule of `applyEvents`).
   */
  async upsert(row: NewInstance, tx?: EntityManager): Promise<void> {
    await this.upsertMany([row], tx);
  }

  /** Bulk form of `upsert`: still one statement, so it needs no transaction of its own. */
  async upsertMany(rows: NewInstance[], tx: EntityManager = this.db.manager): Promise<void> {
    if (rows.length === 0) return;
    await tx.query(
      `WITH up AS (
         INSERT INTO instances (${INSTANCE_ROWS.columns}, touched)
         SELECT ${INSTANCE_ROWS.select}, clock_timestamp() FROM ${INSTANCE_ROWS.source()}
         ON CONFLICT (${INSTANCES.primaryKey}) DO UPDATE SET ${INSTANCE_ROWS.updateAll}, touched = clock_timestamp()
         WHERE instances.last_event < EXCLUDED.last_event
            OR (instances.last_event = EXCLUDED.last_event
                AND ${lifecycleRankSql('EXCLUDED.state')} >= ${lifecycleRankSql('instances.state')})
       )
       DELETE FROM spot_requests s USING ${INSTANCE_ROWS.source()}
       WHERE s.region = r.region AND s.id = r.spot_request_id`,
      INSTANCE_ROWS.values(rows),
    );
  }

  /**
   * Applies instance state-change events to the rows in state, under row locks so that two events for
   * one instance are decided one after the other. An event older than the row's `last_event` changes
   * nothing; one of the same time applies only if its state comes later in the lifecycle than the
   * row's (SPEC §3: event times have one-second precision, and a `pending` and its `running` often
   * share one), so a duplicate changes nothing either. A live state updates the row; any other state
   * removes it. `absent`: no row (left, or never in state). Events of one instance are decided in the
   * order given, each against what the ones before it left; the outcomes come back in that order.
   *
   * A batch's events take one locking read, one update and one removal per distinct event time (the
   * `terminations` trigger takes the leave time per statement), whatever their number. The row locks
   * are taken in key order, so two batches sharing instances queue instead of deadlocking; they hold
   * until `tx` ends: the caller's transaction decides what else is atomic with the events.
   */
  async applyEvents(region: string, events: readonly StateChange[], tx: EntityManager): Promise<EventOutcome[]> {
    if (events.length === 0) return [];
    const ids = [...new Set(events.map((e) => e.id))].sort();
    const found: { id: string; last_event: Date; state: string }[] = await tx.query(
      `SELECT id, last_event, state FROM instances WHERE region = $1 AND id = ANY($2::text[]) ORDER BY id FOR UPDATE`,
      [region, ids],
    );
    const rows = new Map(
      found.map((r) => [r.id, { time: r.last_event, state: r.state, changed: false, removed: false }]),
    );
    const outcomes = events.map((e): EventOutcome => {
      const row = rows.get(e.id);
      if (!row || row.removed) return 'absent';
      if (!isNewerEvent(e, row)) return 'out-of-order';
      Object.assign(row, { time: e.time, state: e.state, changed: true, removed: !isLiveInstanceState(e.state) });
      return row.removed ? 'removed' : 'updated';
    });
    const updated = [...rows].filter(([, r]) => r.changed && !r.removed);
    if (updated.length > 0) {
      await tx.query(
        `UPDATE instances i SET state = u.state, last_event = u.last_event, touched = clock_timestamp()
         FROM unnest($2::text[], $3::text[], $4::timestamptz[]) AS u(id, state, last_event)
         WHERE i.region = $1 AND i.id = u.id`,
        [region, updated.map(([id]) => id), updated.map(([, r]) => r.state), updated.map(([, r]) => r.time)],
      );
    }
    const leaving = new Map<number, string[]>();
    for (const [id, r] of rows)
      if (r.removed) leaving.set(r.time.getTime(), [...(leaving.get(r.time.getTime()) ?? []), id]);
    for (const [at, left] of leaving) await this.removeWithCause(region, left, { at: new Date(at) }, tx);
    return outcomes;
  }

  /** `applyEvents` for one event. */
  async applyEvent(region: string, id: string, state: string, time: Date, tx: EntityManager): Promise<EventOutcome> {
    const [outcome] = await this.applyEvents(region, [{ id, state, time }], tx);
    return outcome;
  }

  /**
   * Serialises everything done to one instance because of its events, across replicas, until the
   * transaction ends: also when the instance has no row yet, where a row lock cannot help (a late
   * `pending` being added while its `terminated` finds nothing to remove). Several instances are
   * locked in one statement, in sorted order, so that two transactions locking overlapping sets (two
   * consumers, two replicas) wait for each other instead of deadlocking.
   */
  async lockForEvents(region: string, ids: string | readonly string[], tx: EntityManager): Promise<void> {
    const keys = [...new Set(typeof ids === 'string' ? [ids] : ids)].map((id) => `instance-events:${region}/${id}`);
    if (keys.length === 0) return;
    // unnest yields the array's order, and each row's lock is taken before the next row is produced.
    await tx.query(`SELECT count(pg_advisory_xact_lock(hashtextextended(k, 0))) FROM unnest($1::text[]) AS k`, [
      keys.sort(),
    ]);
  }

  async remove(region: string, id: string, tx?: EntityManager): Promise<boolean> {
    return (await this.removeMany(region, [id], tx)) === 1;
  }

  /** Removes the given ids of one region; returns how many rows were there. Each is recorded as a termination (by trigger). */
  async removeMany(region: string, ids: string[], tx: EntityManager = this.db.manager): Promise<number> {
    if (ids.length === 0) return 0;
    const [, count]: [unknown, number] = await tx.query(
      `DELETE FROM instances WHERE region = $1 AND id = ANY($2::text[])`,
      [region, ids],
    );
    return count;
  }

  /**
   * `removeMany`, with why the instances left recorded by the `terminations` trigger. With a reason of
   * ours, an instance whose row an event removed first gets that reason instead of EC2's generic one,
   * and one never in state is recorded from `cause.instances`. The cause travels in settings that live
   * until `tx` ends (the trigger clears them): several statements, which `tx` makes one change.
   */
  async removeWithCause(region: string, ids: string[], cause: LeaveCause, tx: EntityManager): Promise<number> {
    if (ids.length === 0) return 0;
    await tx.query(
      `SELECT set_config('ec2_manager.leave_reason', $1, true), set_config('ec2_manager.leave_time', $2, true)`,
      [cause.reason ?? '', cause.at?.toISOString() ?? ''],
    );
    const count = await this.removeMany(region, ids, tx);
    if (cause.reason) await this.attribute(tx, region, ids, cause.reason, cause.instances ?? []);
    return count;
  }

  /**
   * Our decision is the reason of an instance an event removed first (EC2 would only say "user
   * initiated"), and of one that ended before it ever was in state.
   */
  private async attribute(
    m: EntityManager,
    region: string,
    ids: string[],
    reason: OwnTerminationReason,
    known: readonly EndingInstance[],
  ): Promise<void> {
    await m.query(
      `UPDATE terminations SET reason = $3 WHERE region = $1 AND instance_id = ANY($2::text[])
         AND reason IN ('unresolved', 'unknown', 'user-initiated')`,
      [region, ids, reason],
    );
    const wanted = new Set(ids);
    const never = known.filter((i) => wanted.has(i.id));
    if (never.length === 0) return;
    await m.query(
      `INSERT INTO terminations (region, instance_id, worker_type, instance_type, az, lifecycle, launched, ended, reason,
                                 hourly_price)
       SELECT $1, i.id, i.worker_type, i.instance_type, i.az, i.lifecycle, i.launched, clock_timestamp(), $8,
              pool_hourly_price($1, i.az, i.instance_type, i.lifecycle)
       FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[])
         AS i(id, worker_type, instance_type, az, lifecycle, launched)
       ON CONFLICT (region, instance_id) DO NOTHING`,
      [
        region,
        never.map((i) => i.id),
        never.map((i) => i.workerType),
        never.map((i) => i.instanceType),
        never.map((i) => i.az),
        never.map((i) => (i.spotRequestId === null ? 'on-demand' : 'spot')),
        never.map((i) => i.launched),
        reason,
      ],
    );
  }

  async find(region: string, id: string, tx?: EntityManager): Promise<Instance | null> {
    const [row] = await this.list({ region, ids: [id] }, tx);
    return row ?? null;
  }

  async list(filter: InstanceFilter = {}, tx?: EntityManager): Promise<Instance[]> {
    const { clause, params } = resourceWhere(filter);
    return (tx ?? this.db.manager).query(
      `SELECT ${INSTANCES.select()} FROM instances ${clause} ORDER BY region, id`,
      params,
    );
  }

  /** Row counts by region and state, for the metrics gauges. */
  async countByRegionAndState(tx?: EntityManager): Promise<{ region: string; state: string; count: number }[]> {
    const rows: { region: string; state: string; count: string }[] = await (tx ?? this.db.manager).query(
      `SELECT region, state, count(*) AS count FROM instances GROUP BY region, state ORDER BY region, state`,
    );
    return rows.map((r) => ({ ...r, count: Number(r.count) }));
  }
}
