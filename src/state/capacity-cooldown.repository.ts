import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { CapacityCooldown } from './entities';

export type NewCapacityCooldown = Omit<CapacityCooldown, 'created' | 'until'>;

export interface CooldownFilter {
  workerType?: string;
  region?: string;
}

const COLUMNS = `region, az, instance_type AS "instanceType", until, reason, worker_type AS "workerType",
  spot_request_id AS "spotRequestId", created`;

@Injectable()
export class CapacityCooldownRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Starts (or extends) the cooldown of each pool for `seconds` from now; expired ones are pruned. */
  async record(rows: NewCapacityCooldown[], seconds: number, tx?: EntityManager): Promise<void> {
    const m = tx ?? this.db.manager;
    await m.query(`DELETE FROM capacity_cooldowns WHERE until < clock_timestamp()`);
    if (rows.length === 0) return;
    // One statement cannot touch a row twice: keep one request per pool.
    const byPool = new Map(rows.map((r) => [`${r.region}|${r.az}|${r.instanceType}`, r]));
    const unique = [...byPool.values()];
    await m.query(
      `INSERT INTO capacity_cooldowns (region, az, instance_type, until, reason, worker_type, spot_request_id, created)
       SELECT r.region, r.az, r.instance_type, clock_timestamp() + make_interval(secs => $7), r.reason, r.worker_type,
              r.spot_request_id, clock_timestamp()
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
         AS r(region, az, instance_type, reason, worker_type, spot_request_id)
       ON CONFLICT (region, az, instance_type) DO UPDATE SET
         until = EXCLUDED.until, reason = EXCLUDED.reason, worker_type = EXCLUDED.worker_type,
         spot_request_id = EXCLUDED.spot_request_id, created = EXCLUDED.created`,
      [
        unique.map((r) => r.region),
        unique.map((r) => r.az),
        unique.map((r) => r.instanceType),
        unique.map((r) => r.reason),
        unique.map((r) => r.workerType),
        unique.map((r) => r.spotRequestId),
        seconds,
      ],
    );
  }

  /** Cooldowns still running, by region, zone and instance type. */
  active(filter: CooldownFilter = {}, tx?: EntityManager): Promise<CapacityCooldown[]> {
    return (tx ?? this.db.manager).query(
      `SELECT ${COLUMNS} FROM capacity_cooldowns
       WHERE until > clock_timestamp() AND ($1::text IS NULL OR worker_type = $1) AND ($2::text IS NULL OR region = $2)
       ORDER BY region, az, instance_type`,
      [filter.workerType ?? null, filter.region ?? null],
    );
  }
}
