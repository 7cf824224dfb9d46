import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

/** Rows deleted per statement: each prune statement holds its row locks briefly, whatever the backlog. */
const BATCH = 5000;

export interface PrunedHistory {
  cloudwatchLog: number;
  failedSpotRequests: number;
}

/** The history tables, kept for HISTORY_RETENTION_DAYS (SPEC §9). */
@Injectable()
export class HistoryRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Deletes history older than `days`: the event log by when an event was received, failed spot requests
   * by when they failed. In batches, so a first prune of a long backlog never holds a long lock; each batch
   * is its own statement (a caller's `tx` makes them one transaction). `beforeBatch` may stop it (fencing).
   */
  async prune(days: number, beforeBatch: () => void = () => undefined, tx?: EntityManager): Promise<PrunedHistory> {
    const m = tx ?? this.db.manager;
    const prune = async (table: string, column: string): Promise<number> => {
      let total = 0;
      for (;;) {
        beforeBatch();
        const [, deleted] = await m.query<[unknown, number]>(
          `DELETE FROM ${table} WHERE ctid = ANY (ARRAY(
             SELECT ctid FROM ${table} WHERE ${column} < clock_timestamp() - make_interval(days => $1) LIMIT $2))`,
          [days, BATCH],
        );
        total += deleted;
        if (deleted < BATCH) return total;
      }
    };
    return {
      cloudwatchLog: await prune('cloudwatch_log', 'received'),
      failedSpotRequests: await prune('failed_spot_requests', 'failed'),
    };
  }
}
