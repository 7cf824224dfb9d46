import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

/** A resource to tag, as the tagger needs it. */
export interface UntaggedResource {
  region: string;
  resourceId: string;
  workerType: string;
}

/** A row claimed by the tagger: its lease runs until the claim's `next_attempt`. */
export interface PendingTagClaim extends UntaggedResource {
  /** Claims made so far, this one included. */
  attempts: number;
  since: Date;
}

export interface BackOff {
  baseSeconds: number;
  maxSeconds: number;
}

/**
 * Resources of ours waiting for their tags (SPEC §2), so that tagging is off the event path: the
 * adoption records them in its own transaction, the tagger claims, tags and forgets them after.
 */
@Injectable()
export class PendingTagRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Records resources found untagged, in the caller's transaction; one already waiting keeps its place. */
  async add(rows: readonly UntaggedResource[], tx: EntityManager): Promise<void> {
    if (rows.length === 0) return;
    await tx.query(
      `INSERT INTO pending_tags (region, resource_id, worker_type)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
       ON CONFLICT (region, resource_id) DO NOTHING`,
      [rows.map((r) => r.region), rows.map((r) => r.resourceId), rows.map((r) => r.workerType)],
    );
  }

  /**
   * Claims up to `limit` due rows, oldest due first, for `leaseSeconds`: until then no other claim (this
   * replica's or another's) takes them. One statement, so a claim is all or nothing; SKIP LOCKED lets
   * replicas claiming at the same moment take different rows instead of waiting on each other. A claimer
   * that dies leaves its rows to whoever claims after the lease.
   */
  async claimDue(limit: number, leaseSeconds: number, tx?: EntityManager): Promise<PendingTagClaim[]> {
    // An UPDATE answers [rows, count] through TypeORM.
    const [rows]: [PendingTagClaim[], number] = await (tx ?? this.db.manager).query(
      `UPDATE pending_tags p
          SET attempts = p.attempts + 1, next_attempt = clock_timestamp() + $2 * interval '1 second'
         FROM (SELECT region, resource_id FROM pending_tags
                WHERE next_attempt <= clock_timestamp()
                ORDER BY next_attempt
                LIMIT $1
                FOR UPDATE SKIP LOCKED) due
        WHERE p.region = due.region AND p.resource_id = due.resource_id
        RETURNING p.region, p.resource_id AS "resourceId", p.worker_type AS "workerType", p.attempts, p.since`,
      [limit, leaseSeconds],
    );
    return rows;
  }

  /** Ends a claim early without a back-off: due again at once (a claimer that stops before its call ends). */
  async release(region: string, resourceIds: readonly string[], tx?: EntityManager): Promise<void> {
    if (resourceIds.length === 0) return;
    await (tx ?? this.db.manager).query(
      `UPDATE pending_tags SET next_attempt = clock_timestamp() WHERE region = $1 AND resource_id = ANY($2::text[])`,
      [region, resourceIds],
    );
  }

  /** Of these resources of a region, the ones waiting for tags (whether claimed or not). */
  waitingAmong(region: string, resourceIds: readonly string[], tx?: EntityManager): Promise<UntaggedResource[]> {
    if (resourceIds.length === 0) return Promise.resolve([]);
    return (tx ?? this.db.manager).query(
      `SELECT region, resource_id AS "resourceId", worker_type AS "workerType" FROM pending_tags
        WHERE region = $1 AND resource_id = ANY($2::text[])`,
      [region, resourceIds],
    );
  }

  /** Forgets resources tagged (or gone). Returns how many were waiting. */
  async forget(region: string, resourceIds: readonly string[], tx?: EntityManager): Promise<number> {
    if (resourceIds.length === 0) return 0;
    const [, count]: [unknown, number] = await (tx ?? this.db.manager).query(
      `DELETE FROM pending_tags WHERE region = $1 AND resource_id = ANY($2::text[])`,
      [region, resourceIds],
    );
    return count;
  }

  /**
   * Due again after `base · 2^(attempts−1)` seconds, at most `max`, times a jitter in [0.5, 1): replicas
   * that failed together during an outage do not all retry at the same moment.
   */
  async retryLater(
    region: string,
    resourceIds: readonly string[],
    backOff: BackOff,
    tx?: EntityManager,
  ): Promise<void> {
    if (resourceIds.length === 0) return;
    await (tx ?? this.db.manager).query(
      `UPDATE pending_tags
          SET next_attempt = clock_timestamp()
                + least($4::float8, $3::float8 * power(2, least(greatest(attempts - 1, 0), 30)))
                  * (0.5 + random() / 2) * interval '1 second'
        WHERE region = $1 AND resource_id = ANY($2::text[])`,
      [region, resourceIds, backOff.baseSeconds, backOff.maxSeconds],
    );
  }

  /** Per region: how many wait, and for how long the oldest has waited (seconds); for the metrics. */
  async countByRegion(tx?: EntityManager): Promise<{ region: string; count: number; oldestSeconds: number }[]> {
    const rows: { region: string; count: string; oldestSeconds: string }[] = await (tx ?? this.db.manager).query(
      `SELECT region, count(*) AS count, extract(epoch FROM clock_timestamp() - min(since)) AS "oldestSeconds"
         FROM pending_tags GROUP BY region ORDER BY region`,
    );
    return rows.map((r) => ({ region: r.region, count: Number(r.count), oldestSeconds: Number(r.oldestSeconds) }));
  }
}
