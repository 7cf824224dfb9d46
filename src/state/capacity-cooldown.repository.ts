import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { CapacityCooldown, QuotaCooldown } from './entities';

export type NewCapacityCooldown = Omit<CapacityCooldown, 'created' | 'until'>;
export type NewQuotaCooldown = Omit<QuotaCooldown, 'created' | 'until'>;

export interface CooldownFilter {
  workerType?: string;
  region?: string;
}

const COLUMNS = `region, az, instance_type AS "instanceType", lifecycle, until, reason, worker_type AS "workerType",
  spot_request_id AS "spotRequestId", created`;
const QUOTA_COLUMNS = `region, lifecycle, until, reason, message, worker_type AS "workerType", created`;

/**
 * Capacity cooldowns (a pool EC2 could not fill, SPEC §5 and §11) and quota cooldowns (an account quota
 * used up for a lifecycle in a region, SPEC §11), kept apart so that operators see which one bites.
 */
@Injectable()
export class CapacityCooldownRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Starts (or extends) the cooldown of each pool for `seconds` from now; expired ones are pruned. */
  async record(rows: NewCapacityCooldown[], seconds: number, tx?: EntityManager): Promise<void> {
    const m = tx ?? this.db.manager;
    await m.query(`DELETE FROM capacity_cooldowns WHERE until < clock_timestamp()`);
    if (rows.length === 0) return;
    // One statement cannot touch a row twice: keep one row per pool.
    const byPool = new Map(rows.map((r) => [`${r.region}|${r.az}|${r.instanceType}|${r.lifecycle}`, r]));
    const unique = [...byPool.values()];
    await m.query(
      `INSERT INTO capacity_cooldowns (region, az, instance_type, lifecycle, until, reason, worker_type, spot_request_id, created)
       SELECT r.region, r.az, r.instance_type, r.lifecycle, clock_timestamp() + make_interval(secs => $8), r.reason,
              r.worker_type, r.spot_request_id, clock_timestamp()
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
         AS r(region, az, instance_type, lifecycle, reason, worker_type, spot_request_id)
       ON CONFLICT (region, az, instance_type, lifecycle) DO UPDATE SET
         until = EXCLUDED.until, reason = EXCLUDED.reason, worker_type = EXCLUDED.worker_type,
         spot_request_id = EXCLUDED.spot_request_id, created = EXCLUDED.created`,
      [
        unique.map((r) => r.region),
        unique.map((r) => r.az),
        unique.map((r) => r.instanceType),
        unique.map((r) => r.lifecycle),
        unique.map((r) => r.reason),
        unique.map((r) => r.workerType),
        unique.map((r) => r.spotRequestId),
        seconds,
      ],
    );
  }

  /**
   * A spot interruption warning for these instances (SPEC §11): EC2 is taking its capacity back, so each
   * one's spot pool goes into a capacity cooldown. Instances not in state are skipped (their pool is not
   * known here); a redelivered warning only extends the cooldown.
   */
  async recordInterrupted(
    region: string,
    instanceIds: readonly string[],
    seconds: number,
    tx?: EntityManager,
  ): Promise<number> {
    if (instanceIds.length === 0) return 0;
    const rows: unknown[] = await (tx ?? this.db.manager).query(
      `INSERT INTO capacity_cooldowns (region, az, instance_type, lifecycle, until, reason, worker_type, spot_request_id, created)
       SELECT DISTINCT ON (az, instance_type) region, az, instance_type, 'spot', clock_timestamp() + make_interval(secs => $3),
              'spot-interruption', worker_type, '', clock_timestamp()
       FROM instances WHERE region = $1 AND id = ANY($2::text[]) AND az <> ''
       ON CONFLICT (region, az, instance_type, lifecycle) DO UPDATE SET
         until = GREATEST(capacity_cooldowns.until, EXCLUDED.until), reason = EXCLUDED.reason,
         worker_type = EXCLUDED.worker_type, spot_request_id = EXCLUDED.spot_request_id, created = EXCLUDED.created
       RETURNING 1`,
      [region, instanceIds, seconds],
    );
    return rows.length;
  }

  /** Cooldowns still running, by region, zone, instance type and lifecycle. */
  active(filter: CooldownFilter = {}, tx?: EntityManager): Promise<CapacityCooldown[]> {
    return (tx ?? this.db.manager).query(
      `SELECT ${COLUMNS} FROM capacity_cooldowns
       WHERE until > clock_timestamp() AND ($1::text IS NULL OR worker_type = $1) AND ($2::text IS NULL OR region = $2)
       ORDER BY region, az, instance_type, lifecycle`,
      [filter.workerType ?? null, filter.region ?? null],
    );
  }

  /** Starts (or extends) the quota cooldown of each (region, lifecycle) for `seconds` from now. */
  async recordQuota(rows: NewQuotaCooldown[], seconds: number, tx?: EntityManager): Promise<void> {
    const m = tx ?? this.db.manager;
    await m.query(`DELETE FROM quota_cooldowns WHERE until < clock_timestamp()`);
    const unique = [...new Map(rows.map((r) => [`${r.region}|${r.lifecycle}`, r])).values()];
    if (unique.length === 0) return;
    await m.query(
      `INSERT INTO quota_cooldowns (region, lifecycle, until, reason, message, worker_type, created)
       SELECT r.region, r.lifecycle, clock_timestamp() + make_interval(secs => $6), r.reason, r.message, r.worker_type,
              clock_timestamp()
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
         AS r(region, lifecycle, reason, message, worker_type)
       ON CONFLICT (region, lifecycle) DO UPDATE SET
         until = EXCLUDED.until, reason = EXCLUDED.reason, message = EXCLUDED.message,
         worker_type = EXCLUDED.worker_type, created = EXCLUDED.created`,
      [
        unique.map((r) => r.region),
        unique.map((r) => r.lifecycle),
        unique.map((r) => r.reason),
        unique.map((r) => r.message),
        unique.map((r) => r.workerType),
        seconds,
      ],
    );
  }

  /**
   * Quota cooldowns still running. A quota is the account's, not a worker type's: every worker type is
   * held back by it, whichever one ran into it.
   */
  activeQuota(filter: { region?: string } = {}, tx?: EntityManager): Promise<QuotaCooldown[]> {
    return (tx ?? this.db.manager).query(
      `SELECT ${QUOTA_COLUMNS} FROM quota_cooldowns
       WHERE until > clock_timestamp() AND ($1::text IS NULL OR region = $1) ORDER BY region, lifecycle`,
      [filter.region ?? null],
    );
  }
}
