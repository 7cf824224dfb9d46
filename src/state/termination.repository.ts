import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { Termination, TerminationReason } from './entities';
import { tableOf } from './table';

/** Where a page of terminations starts: after this one (newest first). `endedUs`: microseconds since the epoch. */
export interface TerminationCursor {
  endedUs: string;
  region: string;
  instanceId: string;
}

export interface TerminationQuery {
  workerType: string;
  /** Only those that ended at or after this. */
  since?: Date;
  after?: TerminationCursor;
  limit: number;
}

export interface TerminationPage {
  terminations: Termination[];
  /** Where the next page starts; null on the last page. */
  next: TerminationCursor | null;
}

/** EC2's verdict on an `unresolved` termination. */
export interface ResolvedTermination {
  instanceId: string;
  reason: TerminationReason;
  code: string | null;
  message: string | null;
}

const TERMINATIONS = tableOf(Termination);

/** Why instances ended (SPEC §12). Rows are written by the trigger on `instances`; this reads and refines them. */
@Injectable()
export class TerminationRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** A worker type's terminations, newest first, a page at a time. */
  async list(q: TerminationQuery, tx?: EntityManager): Promise<TerminationPage> {
    const rows: (Termination & { endedUs: string })[] = await (tx ?? this.db.manager).query(
      `SELECT ${TERMINATIONS.select()}, (extract(epoch FROM ended) * 1000000)::bigint::text AS "endedUs"
       FROM terminations
       WHERE worker_type = $1 AND ($2::timestamptz IS NULL OR ended >= $2)
         AND ($3::bigint IS NULL
              OR (ended, region, instance_id) < (timestamptz 'epoch' + $3::bigint * interval '1 microsecond', $4, $5))
       ORDER BY ended DESC, region DESC, instance_id DESC
       LIMIT $6`,
      [
        q.workerType,
        q.since ?? null,
        q.after?.endedUs ?? null,
        q.after?.region ?? '',
        q.after?.instanceId ?? '',
        q.limit + 1,
      ],
    );
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    return {
      terminations: page.map(({ endedUs: _, ...t }) => t),
      next: rows.length > q.limit ? { endedUs: last.endedUs, region: last.region, instanceId: last.instanceId } : null,
    };
  }

  /** How many of a worker type's instances ended for each reason, since a time. */
  async countByReason(
    workerType: string,
    since: Date | null,
    tx?: EntityManager,
  ): Promise<{ reason: TerminationReason; count: number }[]> {
    const rows: { reason: TerminationReason; count: string }[] = await (tx ?? this.db.manager).query(
      `SELECT reason, count(*) AS count FROM terminations
       WHERE worker_type = $1 AND ($2::timestamptz IS NULL OR ended >= $2)
       GROUP BY reason ORDER BY reason`,
      [workerType, since],
    );
    return rows.map((r) => ({ reason: r.reason, count: Number(r.count) }));
  }

  /** Terminations by worker type and reason since a time, for the metrics. */
  async countByWorkerTypeAndReason(
    since: Date,
    tx?: EntityManager,
  ): Promise<{ workerType: string; reason: TerminationReason; count: number }[]> {
    const rows: { workerType: string; reason: TerminationReason; count: string }[] = await (
      tx ?? this.db.manager
    ).query(
      `SELECT worker_type AS "workerType", reason, count(*) AS count FROM terminations WHERE ended >= $1
       GROUP BY worker_type, reason ORDER BY worker_type, reason`,
      [since],
    );
    return rows.map((r) => ({ ...r, count: Number(r.count) }));
  }

  /** Regions with terminations whose reason is still to be asked of EC2. */
  async unresolvedRegions(tx?: EntityManager): Promise<string[]> {
    const rows: { region: string }[] = await (tx ?? this.db.manager).query(
      `SELECT DISTINCT region FROM terminations WHERE reason = 'unresolved' ORDER BY region`,
    );
    return rows.map((r) => r.region);
  }

  /** Up to `limit` of a region's unresolved terminations, oldest first. */
  unresolved(region: string, limit: number, tx?: EntityManager): Promise<{ instanceId: string; ended: Date }[]> {
    return (tx ?? this.db.manager).query(
      `SELECT instance_id AS "instanceId", ended FROM terminations
       WHERE reason = 'unresolved' AND region = $1 ORDER BY ended, instance_id LIMIT $2`,
      [region, limit],
    );
  }

  /**
   * Gives unresolved terminations EC2's reason. One decided meanwhile (our own decision came in) keeps
   * its reason. Returns how many changed.
   */
  async resolve(region: string, resolved: readonly ResolvedTermination[], tx?: EntityManager): Promise<number> {
    if (resolved.length === 0) return 0;
    const [, count]: [unknown, number] = await (tx ?? this.db.manager).query(
      `UPDATE terminations t SET reason = r.reason, code = r.code, message = r.message
       FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS r(instance_id, reason, code, message)
       WHERE t.region = $1 AND t.instance_id = r.instance_id AND t.reason = 'unresolved'`,
      [
        region,
        resolved.map((r) => r.instanceId),
        resolved.map((r) => r.reason),
        resolved.map((r) => r.code),
        resolved.map((r) => r.message),
      ],
    );
    return count;
  }

  /** Drops unresolved terminations of instances EC2 says are still live: they left state but did not end. */
  async discardUnresolved(region: string, ids: readonly string[], tx?: EntityManager): Promise<number> {
    if (ids.length === 0) return 0;
    const [, count]: [unknown, number] = await (tx ?? this.db.manager).query(
      `DELETE FROM terminations WHERE region = $1 AND instance_id = ANY($2::text[]) AND reason = 'unresolved'`,
      [region, ids],
    );
    return count;
  }

  /** Forgets terminations that ended before `before` (HISTORY_RETENTION_DAYS). */
  async prune(before: Date, tx?: EntityManager): Promise<number> {
    const [, count]: [unknown, number] = await (tx ?? this.db.manager).query(
      `DELETE FROM terminations WHERE ended < $1`,
      [before],
    );
    return count;
  }
}
