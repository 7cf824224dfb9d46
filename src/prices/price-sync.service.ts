import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { AppConfig } from '../config/app-config';
import { reportError } from '../logging/report';
import { CapacityCooldownRepository } from '../state/capacity-cooldown.repository';
import { SpotPriceRepository } from '../state/spot-price.repository';
import { PriceCache } from './price-cache.service';

/** How often every replica refreshes its price cache and cooldowns from Postgres, at most. */
export const SYNC_SECONDS = 15;

/**
 * Brings this replica's PriceCache up to date from Postgres: the newest stored prices and the pools
 * in capacity cooldown. Every replica runs it, leader or not and without a lock, so they all answer alike:
 * on each read through `fresh`, and every SYNC_SECONDS where the pricing job is enabled.
 */
@Injectable()
export class PriceSync implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger(PriceSync.name);
  private lastSync = 0;
  private syncing: Promise<void> | null = null;
  private ticking: Promise<void> | null = null;

  constructor(
    private readonly config: AppConfig,
    private readonly registry: SchedulerRegistry,
    private readonly prices: SpotPriceRepository,
    private readonly cooldowns: CapacityCooldownRepository,
    private readonly cache: PriceCache,
  ) {}

  /**
   * What the price endpoints read through: a refresh from Postgres unless one finished less than
   * `maxAgeSeconds` ago. So a replica answers from what the leader stored right after its own start, and
   * whether or not it runs the pricing job itself (PRICING_ENABLED=false); concurrent callers share one refresh.
   */
  fresh(maxAgeSeconds = SYNC_SECONDS): Promise<void> {
    // With nothing cached yet, every read looks (one cheap query): prices appear as soon as they are stored.
    if (this.cache.updated() && Date.now() - this.lastSync < maxAgeSeconds * 1000) return Promise.resolve();
    this.syncing ??= this.syncOnce().finally(() => {
      this.syncing = null;
    });
    return this.syncing;
  }

  onApplicationBootstrap(): void {
    const pricing = this.config.job('pricing');
    if (!pricing.enabled) return;
    const every = Math.min(SYNC_SECONDS, pricing.everySeconds);
    this.registry.addInterval(
      'price-sync',
      setInterval(() => void this.tick(), every * 1000),
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.ticking;
  }

  /** One scheduled refresh; never overlaps, never throws. */
  private tick(): Promise<void> {
    this.ticking ??= this.syncOnce()
      .catch((err: unknown) => {
        this.log.warn({ msg: 'price cache refresh failed', err });
        reportError(err, { tags: { job: 'price-sync' } });
      })
      .finally(() => {
        this.ticking = null;
      });
    return this.ticking;
  }

  async syncOnce(): Promise<void> {
    const started = Date.now();
    const [cooldowns, quota, lastPolled] = await Promise.all([
      this.cooldowns.active(),
      this.cooldowns.activeQuota(),
      this.prices.lastPolled(),
    ]);
    // The list holds spot prices: only spot cooldowns belong on its entries.
    this.cache.setCooldowns(
      cooldowns.filter((c) => c.lifecycle === 'spot'),
      quota.filter((q) => q.lifecycle === 'spot'),
    );
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
