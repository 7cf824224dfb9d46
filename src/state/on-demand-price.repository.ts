import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { OnDemandPrice } from './entities';

export type NewOnDemandPrice = Omit<OnDemandPrice, 'polled'>;

@Injectable()
export class OnDemandPriceRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Replaces one region's on-demand prices with a completed fetch's: two statements, which `tx` makes one change. */
  async replaceRegion(region: string, prices: NewOnDemandPrice[], polled: Date, tx: EntityManager): Promise<void> {
    await tx.query(`DELETE FROM on_demand_prices WHERE region = $1`, [region]);
    if (prices.length === 0) return;
    await tx.query(
      `INSERT INTO on_demand_prices (region, instance_type, price, polled)
       SELECT $1, p.instance_type, p.price, $4 FROM unnest($2::text[], $3::float8[]) AS p(instance_type, price)`,
      [region, prices.map((p) => p.instanceType), prices.map((p) => p.price), polled],
    );
  }

  /** When the newest stored fetch completed, or null when none ever did. */
  async lastPolled(tx?: EntityManager): Promise<Date | null> {
    const [row]: { polled: Date | null }[] = await (tx ?? this.db.manager).query(
      `SELECT max(polled) AS polled FROM on_demand_prices`,
    );
    return row.polled;
  }

  list(regions: readonly string[], tx?: EntityManager): Promise<OnDemandPrice[]> {
    return (tx ?? this.db.manager).query(
      `SELECT region, instance_type AS "instanceType", price, polled FROM on_demand_prices
       WHERE region = ANY($1::text[]) ORDER BY region, instance_type`,
      [regions],
    );
  }
}
