import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { AppConfig } from '../config/app-config';
import { reportError } from '../logging/report';
import { CapacityCooldownRepository } from '../state/capacity-cooldown.repository';
import { OnDemandPriceRepository } from '../state/on-demand-price.repository';
import { SpotPriceRepository } from '../state/spot-price.repository';
import { PriceCache, PriceEntry } from './price-cache.service';

/** How often every replica refreshes its price cache and cooldowns from Postgres, at most. */
export const SYNC_SECONDS = 15;

/**
 * Brings this replica's PriceCache up to date from Postgres: the newest stored spot and on-demand prices
 * (an on-demand entry for every spot pool whose type has one) and the pools in capacity cooldown. Every replica runs it, leader or not and without a lock, so they all answer alike:
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
    private readonly onDemand: OnDemandPriceRepository,
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
    const [cooldowns, quota, spotPolled, onDemandPolled] = await Promise.all([
      this.cooldowns.active(),
      this.cooldowns.activeQuota(),
      this.prices.lastPolled(),
      this.onDemand.lastPolled(),
    ]);
    // Each entry shows the cooldowns of its own lifecycle.
    this.cache.setCooldowns(cooldowns, quota);
    const updated = this.cache.updated();
    // The list is as new as its newer half; it exists once spot prices do (they name the pools).
    const lastPolled = spotPolled && new Date(Math.max(spotPolled.getTime(), onDemandPolled?.getTime() ?? 0));
    if (lastPolled && (!updated || lastPolled.getTime() > updated.getTime())) {
      const [spot, onDemand] = await Promise.all([
        this.prices.list(this.config.regions),
        this.onDemand.list(this.config.regions),
      ]);
      const onDemandPrice = new Map(onDemand.map((p) => [`${p.region}|${p.instanceType}`, p.price]));
      const entries: PriceEntry[] = [];
      for (const r of spot) {
        const pool = { region: r.region, zone: r.zone, instanceType: r.instanceType };
        entries.push({ ...pool, price: r.price, type: 'spot' });
        const od = onDemandPrice.get(`${r.region}|${r.instanceType}`);
        if (od !== undefined) entries.push({ ...pool, price: od, type: 'on-demand' });
      }
      this.cache.set(entries, lastPolled);
    }
    this.lastSync = started;
  }
}
