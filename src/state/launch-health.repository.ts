import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

/** Instances asked for in one pool with one outcome, over the last hour and the last day. */
export interface PoolOutcomeCount {
  workerType: string;
  region: string;
  az: string;
  instanceType: string;
  lifecycle: string;
  outcome: string;
  /** Instances (launched, or asked for and not given) in the last hour. */
  lastHour: number;
  lastDay: number;
  /** Launch attempts (calls to EC2, per pool) in the last day. */
  attemptsLastDay: number;
}

export interface LaunchError {
  at: Date;
  workerType: string;
  region: string;
  az: string;
  instanceType: string;
  lifecycle: string;
  endpoint: string;
  outcome: string;
  count: number;
  code: string | null;
  message: string | null;
}

const HOUR = `clock_timestamp() - interval '1 hour'`;
const DAY = `clock_timestamp() - interval '1 day'`;

/** How launches fare (SPEC §12), read from the launch outcomes the launch endpoints record. */
@Injectable()
export class LaunchHealthRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Counts per (worker type, region, zone, type, lifecycle, outcome) over the last hour and day; all worker types when null. */
  async counts(workerType: string | null, tx?: EntityManager): Promise<PoolOutcomeCount[]> {
    const rows: (Omit<PoolOutcomeCount, 'lastHour' | 'lastDay' | 'attemptsLastDay'> & {
      lastHour: string;
      lastDay: string;
      attemptsLastDay: string;
    })[] = await (tx ?? this.db.manager).query(
      `SELECT worker_type AS "workerType", region, az, instance_type AS "instanceType", lifecycle, outcome,
              coalesce(sum(count) FILTER (WHERE at >= ${HOUR}), 0) AS "lastHour",
              sum(count) AS "lastDay", count(*) AS "attemptsLastDay"
       FROM launch_outcomes
       WHERE at >= ${DAY} AND ($1::text IS NULL OR worker_type = $1)
       GROUP BY worker_type, region, az, instance_type, lifecycle, outcome
       ORDER BY worker_type, region, az, instance_type, lifecycle, outcome`,
      [workerType],
    );
    return rows.map((r) => ({
      ...r,
      lastHour: Number(r.lastHour),
      lastDay: Number(r.lastDay),
      attemptsLastDay: Number(r.attemptsLastDay),
    }));
  }

  /** Instances asked for in the last hour by worker type and outcome, for the metrics. */
  async lastHourByWorkerType(tx?: EntityManager): Promise<{ workerType: string; outcome: string; count: number }[]> {
    const rows: { workerType: string; outcome: string; count: string }[] = await (tx ?? this.db.manager).query(
      `SELECT worker_type AS "workerType", outcome, sum(count) AS count FROM launch_outcomes
       WHERE at >= ${HOUR} GROUP BY worker_type, outcome ORDER BY worker_type, outcome`,
    );
    return rows.map((r) => ({ ...r, count: Number(r.count) }));
  }

  /** The newest failed attempts (every outcome but success), newest first; all worker types when null. */
  lastErrors(workerType: string | null, limit: number, tx?: EntityManager): Promise<LaunchError[]> {
    return (tx ?? this.db.manager).query(
      `SELECT at, worker_type AS "workerType", region, az, instance_type AS "instanceType", lifecycle, endpoint, outcome,
              count, code, message
       FROM launch_outcomes
       WHERE outcome <> 'success' AND ($1::text IS NULL OR worker_type = $1)
       ORDER BY at DESC, id DESC LIMIT $2`,
      [workerType, limit],
    );
  }

  /** Forgets outcomes older than `before` (HISTORY_RETENTION_DAYS). */
  async prune(before: Date, tx?: EntityManager): Promise<number> {
    const [, count]: [unknown, number] = await (tx ?? this.db.manager).query(
      `DELETE FROM launch_outcomes WHERE at < $1`,
      [before],
    );
    return count;
  }
}
