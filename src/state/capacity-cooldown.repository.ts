import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { CapacityCooldown, QuotaCooldown } from './entities';
import { tableOf } from './table';

export type NewCapacityCooldown = Omit<CapacityCooldown, 'created' | 'until'>;
export type NewQuotaCooldown = Omit<QuotaCooldown, 'created' | 'until'>;

export interface CooldownFilter {
  workerType?: string;
  region?: string;
}

const COOLDOWNS = tableOf(CapacityCooldown);
/** A cooldown as we write it; the statement sets when it started and until when it runs. */
const COOLDOWN_ROWS = COOLDOWNS.rows('created', 'until');
const QUOTAS = tableOf(QuotaCooldown);
/** A quota cooldown as we write it; the statement sets when it started and until when it runs. */
const QUOTA_ROWS = QUOTAS.rows('created', 'until');

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
      `INSERT INTO capacity_cooldowns (${COOLDOWN_ROWS.columns}, until, created)
       SELECT ${COOLDOWN_ROWS.select}, clock_timestamp() + make_interval(secs => $1), clock_timestamp()
       FROM ${COOLDOWN_ROWS.source(2)}
       ON CONFLICT (${COOLDOWNS.primaryKey}) DO UPDATE SET ${COOLDOWN_ROWS.updateAll},
         until = EXCLUDED.until, created = EXCLUDED.created`,
      [seconds, ...COOLDOWN_ROWS.values(unique)],
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
      `SELECT ${COOLDOWNS.select()} FROM capacity_cooldowns
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
      `INSERT INTO quota_cooldowns (${QUOTA_ROWS.columns}, until, created)
       SELECT ${QUOTA_ROWS.select}, clock_timestamp() + make_interval(secs => $1), clock_timestamp()
       FROM ${QUOTA_ROWS.source(2)}
       ON CONFLICT (${QUOTAS.primaryKey}) DO UPDATE SET ${QUOTA_ROWS.updateAll},
         until = EXCLUDED.until, created = EXCLUDED.created`,
      [seconds, ...QUOTA_ROWS.values(unique)],
    );
  }

  /**
   * Quota cooldowns still running. A quota is the account's, not a worker type's: every worker type is
   * held back by it, whichever one ran into it.
   */
  activeQuota(filter: { region?: string } = {}, tx?: EntityManager): Promise<QuotaCooldown[]> {
    return (tx ?? this.db.manager).query(
      `SELECT ${QUOTAS.select()} FROM quota_cooldowns
       WHERE until > clock_timestamp() AND ($1::text IS NULL OR region = $1) ORDER BY region, lifecycle`,
      [filter.region ?? null],
    );
  }
}
