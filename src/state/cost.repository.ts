import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { InstanceLifecycle } from './entities';

/** Instances of one pool in state and what they cost now. */
export interface PoolRate {
  region: string;
  az: string;
  instanceType: string;
  lifecycle: InstanceLifecycle;
  count: number;
  /** USD per hour of one instance: the pool's current spot price, or the type's on-demand price; null if unknown. */
  hourlyPrice: number | null;
}

export interface DailyCost {
  /** The UTC day, `YYYY-MM-DD`. */
  day: string;
  /** USD spent that day by the worker type's instances (ended ones at their price when they ended). */
  cost: number;
}

/** An instance's lifecycle from its row: EC2 gives spot instances a spot request id, on-demand ones none. */
const LIFECYCLE = `CASE WHEN spot_request_id IS NULL THEN 'on-demand' ELSE 'spot' END`;

/** What worker types cost (SPEC §12), from instances in state, terminations and the stored prices. */
@Injectable()
export class CostRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** A worker type's instances in state by pool, with each pool's current price. */
  async poolRates(workerType: string, tx?: EntityManager): Promise<PoolRate[]> {
    const rows: (Omit<PoolRate, 'count'> & { count: string })[] = await (tx ?? this.db.manager).query(
      `SELECT region, az, instance_type AS "instanceType", lifecycle, count(*) AS count,
              pool_hourly_price(region, az, instance_type, lifecycle) AS "hourlyPrice"
       FROM (SELECT region, az, instance_type, ${LIFECYCLE} AS lifecycle FROM instances WHERE worker_type = $1) i
       GROUP BY region, az, instance_type, lifecycle ORDER BY region, az, instance_type, lifecycle`,
      [workerType],
    );
    return rows.map((r) => ({ ...r, count: Number(r.count) }));
  }

  /** Every worker type's current rate in USD per hour (instances whose price is unknown count for nothing). */
  async ratesByWorkerType(tx?: EntityManager): Promise<{ workerType: string; rate: number }[]> {
    const rows: { workerType: string; rate: number | null }[] = await (tx ?? this.db.manager).query(
      `SELECT worker_type AS "workerType", sum(pool_hourly_price(region, az, instance_type, ${LIFECYCLE})) AS rate
       FROM instances GROUP BY worker_type ORDER BY worker_type`,
    );
    return rows.map((r) => ({ workerType: r.workerType, rate: r.rate ?? 0 }));
  }

  /**
   * What the worker type spent on each of the last `days` UTC days (today included, so far): each ended
   * instance at the price kept when it ended, each instance in state at its pool's price now, over the
   * hours it ran that day.
   */
  async dailyCost(workerType: string, days: number, tx?: EntityManager): Promise<DailyCost[]> {
    const rows: { day: string; cost: number }[] = await (tx ?? this.db.manager).query(
      `WITH spans AS (
         SELECT launched, ended, hourly_price AS price FROM terminations
          WHERE worker_type = $1 AND hourly_price IS NOT NULL
         UNION ALL
         SELECT launched, clock_timestamp(), pool_hourly_price(region, az, instance_type, ${LIFECYCLE})
           FROM instances WHERE worker_type = $1
       ), days AS (
         SELECT d AT TIME ZONE 'UTC' AS start, (d + interval '1 day') AT TIME ZONE 'UTC' AS stop, d::date AS day
           FROM generate_series(date_trunc('day', now() AT TIME ZONE 'UTC') - ($2::int - 1) * interval '1 day',
                                date_trunc('day', now() AT TIME ZONE 'UTC'), interval '1 day') AS d
       )
       SELECT to_char(days.day, 'YYYY-MM-DD') AS day,
              coalesce(sum(s.price * extract(epoch FROM least(s.ended, days.stop) - greatest(s.launched, days.start))
                           / 3600), 0)::float8 AS cost
       FROM days LEFT JOIN spans s ON s.price IS NOT NULL AND s.launched < days.stop AND s.ended > days.start
       GROUP BY days.day ORDER BY days.day`,
      [workerType, days],
    );
    return rows;
  }
}
