import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { fromRows, INSTANCE_ROWS } from './bulk-rows';
import { ResourceFilter, resourceWhere } from './resource-filter';
import {
  Instance,
  InstanceState,
  isLiveInstanceState,
  lifecycleRank,
  lifecycleRankSql,
  OwnTerminationReason,
} from './entities';

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

/** SPEC §3's order of events: by time, and within one second by the lifecycle. */
function isNewer(time: Date, state: string, lastTime: Date, lastState: string): boolean {
  if (time.getTime() !== lastTime.getTime()) return time.getTime() > lastTime.getTime();
  return lifecycleRank(state) > lifecycleRank(lastState);
}

const COLUMNS = `region, id, worker_type AS "workerType", az, instance_type AS "instanceType", state,
  spot_request_id AS "spotRequestId", image_id AS "imageId", launched, last_event AS "lastEvent", touched`;

@Injectable()
export class InstanceRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Inserts or refreshes one instance and, in the same transaction, forgets the spot request it
   * fulfilled. An existing row carrying a newer event is left as it is, and so is one whose event has
   * the same time and a later state (the tie rule of `applyEvent`).
   */
  async upsert(row: NewInstance, tx?: EntityManager): Promise<void> {
    await this.upsertMany([row], tx);
  }

  /** Bulk form of `upsert`: one statement for the instances, one for their spot requests. */
  async upsertMany(rows: NewInstance[], tx?: EntityManager): Promise<void> {
    if (rows.length === 0) return;
    const work = async (m: EntityManager): Promise<void> => {
      await m.query(
        `INSERT INTO instances (${INSTANCE_ROWS.columns.join(', ')}, touched)
         SELECT ${fromRows(INSTANCE_ROWS)}, clock_timestamp() FROM ${INSTANCE_ROWS.source()}
         ON CONFLICT (region, id) DO UPDATE SET
           worker_type = EXCLUDED.worker_type, az = EXCLUDED.az, instance_type = EXCLUDED.instance_type,
           state = EXCLUDED.state, spot_request_id = EXCLUDED.spot_request_id, image_id = EXCLUDED.image_id,
           launched = EXCLUDED.launched, last_event = EXCLUDED.last_event, touched = clock_timestamp()
         WHERE instances.last_event < EXCLUDED.last_event
            OR (instances.last_event = EXCLUDED.last_event
                AND ${lifecycleRankSql('EXCLUDED.state')} >= ${lifecycleRankSql('instances.state')})`,
        INSTANCE_ROWS.values(rows),
      );
      const fulfilled = rows.filter((r) => r.spotRequestId !== null);
      if (fulfilled.length > 0) {
        await m.query(
          `DELETE FROM spot_requests s USING unnest($1::text[], $2::text[]) AS f(region, id)
           WHERE s.region = f.region AND s.id = f.id`,
          [fulfilled.map((r) => r.region), fulfilled.map((r) => r.spotRequestId)],
        );
      }
    };
    await (tx ? work(tx) : this.db.transaction(work));
  }

  /**
   * Applies an instance state-change event to a row in state, under a row lock so that two events for
   * one instance are decided one after the other. An event older than the row's `last_event` changes
   * nothing; one of the same time applies only if its state comes later in the lifecycle than the
   * row's (SPEC §3: event times have one-second precision, and a `pending` and its `running` often
   * share one), so a duplicate changes nothing either. A live state updates the row; any other state
   * removes it.
   */
  async applyEvent(
    region: string,
    id: string,
    state: string,
    eventTime: Date,
    tx?: EntityManager,
  ): Promise<EventOutcome> {
    const work = async (m: EntityManager): Promise<EventOutcome> => {
      const rows: { last_event: Date; state: string }[] = await m.query(
        `SELECT last_event, state FROM instances WHERE region = $1 AND id = $2 FOR UPDATE`,
        [region, id],
      );
      if (rows.length === 0) return 'absent';
      if (!isNewer(eventTime, state, rows[0].last_event, rows[0].state)) return 'out-of-order';
      if (isLiveInstanceState(state)) {
        await m.query(
          `UPDATE instances SET state = $3, last_event = $4, touched = clock_timestamp() WHERE region = $1 AND id = $2`,
          [region, id, state, eventTime],
        );
        return 'updated';
      }
      await this.removeIn(m, region, [id], { at: eventTime });
      return 'removed';
    };
    return tx ? work(tx) : this.db.transaction(work);
  }

  /**
   * Serialises everything done to one instance because of its events, across replicas, until the
   * transaction ends: also when the instance has no row yet, where a row lock cannot help (a late
   * `pending` being added while its `terminated` finds nothing to remove).
   */
  async lockForEvents(region: string, id: string, tx: EntityManager): Promise<void> {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [`instance-events:${region}/${id}`]);
  }

  async remove(region: string, id: string, tx?: EntityManager, cause?: LeaveCause): Promise<boolean> {
    return (await this.removeMany(region, [id], tx, cause)) === 1;
  }

  /**
   * Removes the given ids of one region; returns how many rows were there. Each removal is recorded as
   * a termination (by trigger); `cause` says why, when we know. With a reason of ours, an instance
   * whose row an event removed first gets that reason instead of EC2's generic one, and one never in
   * state is recorded from `cause.instances`.
   */
  async removeMany(region: string, ids: string[], tx?: EntityManager, cause?: LeaveCause): Promise<number> {
    if (ids.length === 0) return 0;
    if (!cause) return this.removeIn(tx ?? this.db.manager, region, ids);
    const work = (m: EntityManager) => this.removeIn(m, region, ids, cause);
    return tx ? work(tx) : this.db.transaction(work);
  }

  /** `cause` needs a transaction: its settings live until the transaction ends (the trigger clears them). */
  private async removeIn(m: EntityManager, region: string, ids: string[], cause?: LeaveCause): Promise<number> {
    if (cause) {
      await m.query(
        `SELECT set_config('ec2_manager.leave_reason', $1, true), set_config('ec2_manager.leave_time', $2, true)`,
        [cause.reason ?? '', cause.at?.toISOString() ?? ''],
      );
    }
    const [, count]: [unknown, number] = await m.query(
      `DELETE FROM instances WHERE region = $1 AND id = ANY($2::text[])`,
      [region, ids],
    );
    if (cause?.reason) await this.attribute(m, region, ids, cause.reason, cause.instances ?? []);
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
    return (tx ?? this.db.manager).query(`SELECT ${COLUMNS} FROM instances ${clause} ORDER BY region, id`, params);
  }

  /** Row counts by region and state, for the metrics gauges. */
  async countByRegionAndState(tx?: EntityManager): Promise<{ region: string; state: string; count: number }[]> {
    const rows: { region: string; state: string; count: string }[] = await (tx ?? this.db.manager).query(
      `SELECT region, state, count(*) AS count FROM instances GROUP BY region, state ORDER BY region, state`,
    );
    return rows.map((r) => ({ ...r, count: Number(r.count) }));
  }
}
