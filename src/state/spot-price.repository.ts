import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { SpotPrice } from './entities';
import { tableOf } from './table';

export type NewSpotPrice = Omit<SpotPrice, 'polled'>;

const PRICES = tableOf(SpotPrice);
/** A price as we write it; `polled` is the same for a whole poll. */
const PRICE_ROWS = PRICES.rows('polled');

@Injectable()
export class SpotPriceRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Replaces one region's prices with a completed poll's: two statements, which `tx` makes one change. */
  async replaceRegion(region: string, prices: NewSpotPrice[], polled: Date, tx: EntityManager): Promise<void> {
    await tx.query(`DELETE FROM spot_prices WHERE region = $1`, [region]);
    if (prices.length === 0) return;
    await tx.query(
      `INSERT INTO spot_prices (${PRICE_ROWS.columns}, polled)
       SELECT ${PRICE_ROWS.select}, $1 FROM ${PRICE_ROWS.source(2)}`,
      [polled, ...PRICE_ROWS.values(prices)],
    );
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
      `SELECT ${PRICES.select()} FROM spot_prices
       WHERE region = ANY($1::text[]) ORDER BY price, region, zone, instance_type`,
      [regions],
    );
  }
}
