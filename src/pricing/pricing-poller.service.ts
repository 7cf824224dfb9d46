import { Injectable, Logger } from '@nestjs/common';
import { awsErrorFields } from '../aws/aws-error';
import { AppConfig } from '../config/app-config';
import { Ec2Gateway } from '../ec2/ec2-gateway.service';
import { Job } from '../jobs/job.decorator';
import { NewSpotPrice, SpotPriceRepository } from '../state/spot-price.repository';
import { Tx } from '../state/tx.service';
import { PriceSync } from '../prices/price-sync.service';

export interface RegionPricingOutcome {
  region: string;
  pools: number;
  error?: string;
}

export interface PricingOutcome {
  regions: RegionPricingOutcome[];
}

export class PricingError extends Error {
  constructor(readonly outcome: PricingOutcome) {
    const failed = outcome.regions.filter((r) => r.error);
    super(`pricing poll failed in ${failed.map((r) => `${r.region} (${r.error})`).join(', ')}; last good prices kept`);
  }
}

/**
 * The pricing poller (SPEC §7): per region, the available zones and every page of the Linux/UNIX
 * spot price history over the window; each pool's price is the highest point. A region whose poll
 * fails keeps its last good prices. The result goes to Postgres, where every replica finds it.
 */
@Injectable()
export class PricingPoller {
  private readonly log = new Logger(PricingPoller.name);

  constructor(
    private readonly config: AppConfig,
    private readonly ec2: Ec2Gateway,
    private readonly prices: SpotPriceRepository,
    private readonly sync: PriceSync,
    private readonly tx: Tx,
  ) {}

  /** Once `signal` aborts (the run was fenced, SPEC §9), no price list is written. */
  @Job('pricing', {
    summary: (o) => ({ regions: o.regions.length, pools: o.regions.reduce((n, r) => n + r.pools, 0) }),
  })
  async pollOnce(signal?: AbortSignal): Promise<PricingOutcome> {
    const regions = await Promise.all(
      this.config.regions.map(async (region): Promise<RegionPricingOutcome> => {
        try {
          const prices = await this.pollRegion(region);
          signal?.throwIfAborted();
          await this.tx.run((m) => this.prices.replaceRegion(region, prices, new Date(), m));
          return { region, pools: prices.length };
        } catch (err) {
          if (signal?.aborted) throw err;
          this.log.error({
            msg: 'pricing poll of region failed; keeping its last good prices',
            region,
            ...awsErrorFields(err),
          });
          return { region, pools: 0, error: err instanceof Error ? err.message : String(err) };
        }
      }),
    );
    await this.sync.syncOnce();
    const outcome = { regions };
    if (regions.some((r) => r.error)) throw new PricingError(outcome);
    return outcome;
  }

  async pollRegion(region: string): Promise<NewSpotPrice[]> {
    const zones = new Set(await this.ec2.availableZones(region));
    const end = new Date();
    const start = new Date(end.getTime() - this.config.pricingWindowMinutes * 60_000);
    const highest = new Map<string, NewSpotPrice>();
    for (const { zone, instanceType, price } of await this.ec2.spotPriceHistory(region, { start, end })) {
      if (!zones.has(zone)) continue;
      const key = `${zone}|${instanceType}`;
      const known = highest.get(key);
      if (!known || price > known.price) highest.set(key, { region, zone, instanceType, price });
    }
    return [...highest.values()];
  }
}
