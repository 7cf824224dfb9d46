import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { bulkRows, fromRows } from './bulk-rows';
import { FailedSpotRequest } from './entities';

export type NewFailedSpotRequest = Omit<FailedSpotRequest, 'failed'>;

/** How far back a worker type's failed requests are shown (they are kept for HISTORY_RETENTION_DAYS). */
const RECENT_HOURS = 24;

const FAILED_ROWS = bulkRows<NewFailedSpotRequest>([
  ['region', 'text', (r) => r.region],
  ['id', 'text', (r) => r.id],
  ['worker_type', 'text', (r) => r.workerType],
  ['az', 'text', (r) => r.az],
  ['instance_type', 'text', (r) => r.instanceType],
  ['state', 'text', (r) => r.state],
  ['status', 'text', (r) => r.status],
]);

const COLUMNS = `region, id, worker_type AS "workerType", az, instance_type AS "instanceType", state, status, failed`;

@Injectable()
export class FailedSpotRequestRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Remembers requests given up on (HistoryRepository.prune forgets them after HISTORY_RETENTION_DAYS). */
  async record(rows: NewFailedSpotRequest[], tx?: EntityManager): Promise<void> {
    const m = tx ?? this.db.manager;
    if (rows.length === 0) return;
    await m.query(
      `INSERT INTO failed_spot_requests (${FAILED_ROWS.columns.join(', ')}, failed)
       SELECT ${fromRows(FAILED_ROWS)}, clock_timestamp() FROM ${FAILED_ROWS.source()}
       ON CONFLICT (region, id) DO UPDATE SET state = EXCLUDED.state, status = EXCLUDED.status, failed = EXCLUDED.failed`,
      FAILED_ROWS.values(rows),
    );
  }

  /** A worker type's requests that failed in the last day, newest first. */
  recentForWorkerType(workerType: string, tx?: EntityManager): Promise<FailedSpotRequest[]> {
    return (tx ?? this.db.manager).query(
      `SELECT ${COLUMNS} FROM failed_spot_requests
       WHERE worker_type = $1 AND failed >= clock_timestamp() - make_interval(hours => $2)
       ORDER BY failed DESC, region, id LIMIT 200`,
      [workerType, RECENT_HOURS],
    );
  }
}
