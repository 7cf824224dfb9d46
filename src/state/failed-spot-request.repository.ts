import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { FailedSpotRequest } from './entities';

export type NewFailedSpotRequest = Omit<FailedSpotRequest, 'failed'>;

/** How long a failed request is remembered. */
const KEEP_HOURS = 24;

const COLUMNS = `region, id, worker_type AS "workerType", az, instance_type AS "instanceType", state, status, failed`;

@Injectable()
export class FailedSpotRequestRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Remembers requests given up on; ones older than a day are forgotten on the way. */
  async record(rows: NewFailedSpotRequest[], tx?: EntityManager): Promise<void> {
    const m = tx ?? this.db.manager;
    await m.query(`DELETE FROM failed_spot_requests WHERE failed < clock_timestamp() - make_interval(hours => $1)`, [
      KEEP_HOURS,
    ]);
    if (rows.length === 0) return;
    await m.query(
      `INSERT INTO failed_spot_requests (region, id, worker_type, az, instance_type, state, status, failed)
       SELECT r.region, r.id, r.worker_type, r.az, r.instance_type, r.state, r.status, clock_timestamp()
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
         AS r(region, id, worker_type, az, instance_type, state, status)
       ON CONFLICT (region, id) DO UPDATE SET state = EXCLUDED.state, status = EXCLUDED.status, failed = EXCLUDED.failed`,
      [
        rows.map((r) => r.region),
        rows.map((r) => r.id),
        rows.map((r) => r.workerType),
        rows.map((r) => r.az),
        rows.map((r) => r.instanceType),
        rows.map((r) => r.state),
        rows.map((r) => r.status),
      ],
    );
  }

  /** A worker type's requests that failed in the last day, newest first. */
  recentForWorkerType(workerType: string, tx?: EntityManager): Promise<FailedSpotRequest[]> {
    return (tx ?? this.db.manager).query(
      `SELECT ${COLUMNS} FROM failed_spot_requests
       WHERE worker_type = $1 AND failed >= clock_timestamp() - make_interval(hours => $2)
       ORDER BY failed DESC, region, id LIMIT 200`,
      [workerType, KEEP_HOURS],
    );
  }
}
