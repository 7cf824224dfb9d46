import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { FailedSpotRequest } from './entities';
import { tableOf } from './table';

export type NewFailedSpotRequest = Omit<FailedSpotRequest, 'failed'>;

/** How far back a worker type's failed requests are shown (they are kept for HISTORY_RETENTION_DAYS). */
const RECENT_HOURS = 24;

const FAILED = tableOf(FailedSpotRequest);
/** A given-up request as we write it; `failed` is the database's clock at the write. */
const FAILED_ROWS = FAILED.rows('failed');

@Injectable()
export class FailedSpotRequestRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Remembers requests given up on (HistoryRepository.prune forgets them after HISTORY_RETENTION_DAYS). */
  async record(rows: NewFailedSpotRequest[], tx?: EntityManager): Promise<void> {
    const m = tx ?? this.db.manager;
    if (rows.length === 0) return;
    await m.query(
      `INSERT INTO failed_spot_requests (${FAILED_ROWS.columns}, failed)
       SELECT ${FAILED_ROWS.select}, clock_timestamp() FROM ${FAILED_ROWS.source()}
       ON CONFLICT (${FAILED.primaryKey}) DO UPDATE SET state = EXCLUDED.state, status = EXCLUDED.status, failed = EXCLUDED.failed`,
      FAILED_ROWS.values(rows),
    );
  }

  /** A worker type's requests that failed in the last day, newest first. */
  recentForWorkerType(workerType: string, tx?: EntityManager): Promise<FailedSpotRequest[]> {
    return (tx ?? this.db.manager).query(
      `SELECT ${FAILED.select()} FROM failed_spot_requests
       WHERE worker_type = $1 AND failed >= clock_timestamp() - make_interval(hours => $2)
       ORDER BY failed DESC, region, id LIMIT 200`,
      [workerType, RECENT_HOURS],
    );
  }
}
