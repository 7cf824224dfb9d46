import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { JobRunner } from '../common/job-runner';
import { AppConfig } from '../config/app-config';
import { Metrics } from '../metrics/metrics.service';
import { JobRunRepository } from '../state/job-run.repository';
import { LeaderLock } from '../state/leader-lock.service';
import { PriceSync } from './price-sync.service';
import { PricingOutcome, PricingPoller } from './pricing-poller.service';
import { reportError } from '../logging/report';

/** How often every replica refreshes its price cache and cooldowns from Postgres, at most. */
export const SYNC_SECONDS = 15;

/**
 * Polls spot prices every PRICING_POLL_SECONDS on the leader (SPEC §7), and on every replica keeps
 * the price cache in step with what the leader stored; only delegates.
 */
@Injectable()
export class PricingJob implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly runner: JobRunner<PricingOutcome>;
  private readonly log = new Logger(PricingJob.name);
  private syncing: Promise<void> | null = null;

  constructor(
    private readonly config: AppConfig,
    private readonly registry: SchedulerRegistry,
    private readonly sync: PriceSync,
    leader: LeaderLock,
    runs: JobRunRepository,
    metrics: Metrics,
    poller: PricingPoller,
  ) {
    this.runner = new JobRunner({
      name: 'pricing',
      intervalSeconds: config.pricingPollSeconds,
      leader,
      runs,
      metrics,
      work: (signal) => poller.pollOnce(signal),
      summary: (o) => ({ regions: o.regions.length, pools: o.regions.reduce((n, r) => n + r.pools, 0) }),
    });
  }

  onApplicationBootstrap(): void {
    if (!this.config.jobsEnabled.pricing) return;
    this.runner.schedule(this.registry);
    const every = Math.min(SYNC_SECONDS, this.config.pricingPollSeconds);
    this.registry.addInterval(
      'price-sync',
      setInterval(() => void this.syncTick(), every * 1000),
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.runner.stop();
    await this.syncing;
  }

  /** One refresh from Postgres; never overlaps, never throws. */
  syncTick(): Promise<void> {
    this.syncing ??= this.sync
      .syncOnce()
      .catch((err: unknown) => {
        this.log.warn({ msg: 'price cache refresh failed', err });
        reportError(err, { tags: { job: 'price-sync' } });
      })
      .finally(() => {
        this.syncing = null;
      });
    return this.syncing;
  }
}
