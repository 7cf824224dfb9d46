import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { SpotPrice } from './entities';

export type NewSpotPrice = Omit<SpotPrice, 'polled'>;

@Injectable()
export class SpotPriceRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Replaces one region's prices with a completed poll's, atomically. */
  async replaceRegion(region: string, prices: NewSpotPrice[], polled: Date): Promise<void> {
    await this.db.transaction(async (m) => {
      await m.query(`DELETE FROM spot_prices WHERE region = $1`, [region]);
      if (prices.length === 0) return;
      await m.query(
        `INSERT INTO spot_prices (region, zone, instance_type, price, polled)
         SELECT $1, p.zone, p.instance_type, p.price, $5
         FROM unnest($2::text[], $3::text[], $4::float8[]) AS p(zone, instance_type, price)`,
        [region, prices.map((p) => p.zone), prices.map((p) => p.instanceType), prices.map((p) => p.price), polled],
      );
    });
  }

  /** When the newest stored poll completed, or null when none ever did. */
  async lastPolled(tx?: EntityManager): Promise<Date | null> {
    const [row]: { polled: Date | null }[] = await (tx ?? this.db.manager).query(
      `SELECT max(polled) AS polled FROM spot_prices`,
    );
    return row.polled;
  }

  list(regions: readonly string[], tx?: EntityManager): Promise<SpotPrice[]> {
    return (tx ?? this.db.manager).query(
      `SELECT region, zone, instance_type AS "instanceType", price, polled FROM spot_prices
       WHERE region = ANY($1::text[]) ORDER BY price, region, zone, instance_type`,
      [regions],
    );
  }
}
