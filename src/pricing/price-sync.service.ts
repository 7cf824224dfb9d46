import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { CapacityCooldownRepository } from '../state/capacity-cooldown.repository';
import { SpotPriceRepository } from '../state/spot-price.repository';
import { PriceCache } from './price-cache.service';

/**
 * Brings this replica's PriceCache up to date from Postgres: the newest stored prices and the pools
 * in capacity cooldown. Every replica runs it, leader or not, so they all answer alike.
 */
@Injectable()
export class PriceSync {
  constructor(
    private readonly config: AppConfig,
    private readonly prices: SpotPriceRepository,
    private readonly cooldowns: CapacityCooldownRepository,
    private readonly cache: PriceCache,
  ) {}

  async syncOnce(): Promise<void> {
    const [cooldowns, lastPolled] = await Promise.all([this.cooldowns.active(), this.prices.lastPolled()]);
    this.cache.setCooldowns(cooldowns);
    const updated = this.cache.updated();
    if (lastPolled && (!updated || lastPolled.getTime() > updated.getTime())) {
      const rows = await this.prices.list(this.config.regions);
      this.cache.set(
        rows.map((r) => ({
          region: r.region,
          zone: r.zone,
          instanceType: r.instanceType,
          price: r.price,
          type: 'spot',
        })),
        lastPolled,
      );
    }
  }
}
