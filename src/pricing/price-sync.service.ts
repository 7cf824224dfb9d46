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
  private lastSync = 0;
  private syncing: Promise<void> | null = null;

  constructor(
    private readonly config: AppConfig,
    private readonly prices: SpotPriceRepository,
    private readonly cooldowns: CapacityCooldownRepository,
    private readonly cache: PriceCache,
  ) {}

  /**
   * What the price endpoints read through: a refresh from Postgres unless one finished less than
   * `maxAgeSeconds` ago. So a replica answers from what the leader stored right after its own start, and
   * whether or not it runs the pricing job itself (PRICING_ENABLED=false); concurrent callers share one refresh.
   */
  fresh(maxAgeSeconds: number): Promise<void> {
    // With nothing cached yet, every read looks (one cheap query): prices appear as soon as they are stored.
    if (this.cache.updated() && Date.now() - this.lastSync < maxAgeSeconds * 1000) return Promise.resolve();
    this.syncing ??= this.syncOnce().finally(() => {
      this.syncing = null;
    });
    return this.syncing;
  }

  async syncOnce(): Promise<void> {
    const started = Date.now();
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
    this.lastSync = started;
  }
}
