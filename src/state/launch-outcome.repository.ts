import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { LaunchOutcome } from './entities';

export type NewLaunchOutcome = Omit<LaunchOutcome, 'id' | 'at'>;

/** Every launch attempt's outcome per pool (SPEC §12), written by the launch endpoints. */
@Injectable()
export class LaunchOutcomeRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async record(rows: readonly NewLaunchOutcome[], tx?: EntityManager): Promise<void> {
    if (rows.length === 0) return;
    await (tx ?? this.db.manager).query(
      `INSERT INTO launch_outcomes (at, worker_type, region, az, instance_type, lifecycle, endpoint, outcome, count, code, message, client_token)
       SELECT clock_timestamp(), r.* FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
         $7::text[], $8::int[], $9::text[], $10::text[], $11::text[])
         AS r(worker_type, region, az, instance_type, lifecycle, endpoint, outcome, count, code, message, client_token)`,
      [
        rows.map((r) => r.workerType),
        rows.map((r) => r.region),
        rows.map((r) => r.az),
        rows.map((r) => r.instanceType),
        rows.map((r) => r.lifecycle),
        rows.map((r) => r.endpoint),
        rows.map((r) => r.outcome),
        rows.map((r) => r.count),
        rows.map((r) => r.code),
        rows.map((r) => r.message),
        rows.map((r) => r.clientToken),
      ],
    );
  }

  /** The outcomes of one worker type, newest first. */
  list(workerType: string, tx?: EntityManager): Promise<LaunchOutcome[]> {
    return (tx ?? this.db.manager).query(
      `SELECT id, at, worker_type AS "workerType", region, az, instance_type AS "instanceType", lifecycle, endpoint,
              outcome, count, code, message, client_token AS "clientToken"
       FROM launch_outcomes WHERE worker_type = $1 ORDER BY at DESC, id DESC`,
      [workerType],
    );
  }
}
