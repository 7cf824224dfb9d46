import { Filter, paginateGetProducts, PricingClient } from '@aws-sdk/client-pricing';
import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { clientOptions, instrument } from '../aws/aws-clients.service';
import { awsErrorFields } from '../aws/aws-error';
import { AppConfig } from '../config/app-config';
import { Job } from '../jobs/job.decorator';
import { Metrics } from '../metrics/metrics.service';
import { NewOnDemandPrice, OnDemandPriceRepository } from '../state/on-demand-price.repository';
import { Tx } from '../state/tx.service';
import { PriceSync } from '../prices/price-sync.service';

/** What we run (SPEC §12): Linux, shared tenancy, no pre-installed software, no capacity reservation. */
const LINUX_SHARED: Record<string, string> = {
  operatingSystem: 'Linux',
  tenancy: 'Shared',
  preInstalledSw: 'NA',
  capacitystatus: 'Used',
  licenseModel: 'No License required',
  operation: 'RunInstances',
  marketoption: 'OnDemand',
};

export interface RegionOnDemandOutcome {
  region: string;
  instanceTypes: number;
  error?: string;
}

export interface OnDemandPricingOutcome {
  regions: RegionOnDemandOutcome[];
}

export class OnDemandPricingError extends Error {
  constructor(readonly outcome: OnDemandPricingOutcome) {
    const failed = outcome.regions.filter((r) => r.error);
    super(
      `on-demand pricing failed in ${failed.map((r) => `${r.region} (${r.error})`).join(', ')}; last good prices kept`,
    );
  }
}

/** The shape of one Price List product (a JSON string in `PriceList`), as far as we read it. */
interface PriceListProduct {
  product?: { attributes?: Record<string, string> };
  terms?: {
    OnDemand?: Record<string, { priceDimensions?: Record<string, { unit?: string; pricePerUnit?: { USD?: string } }> }>;
  };
}

/**
 * On-demand prices from the AWS Price List Query API (`GetProducts`, SPEC §12): per configured region,
 * every page of the Linux, shared-tenancy EC2 products, each instance type's hourly USD price of its
 * OnDemand term. The API answers in us-east-1 (PRICING_REGION) whatever region is priced. A region whose
 * fetch fails keeps its last good prices.
 */
@Injectable()
export class OnDemandPrices implements OnApplicationShutdown {
  private readonly log = new Logger(OnDemandPrices.name);
  private client?: PricingClient;

  constructor(
    private readonly config: AppConfig,
    private readonly metrics: Metrics,
    private readonly prices: OnDemandPriceRepository,
    private readonly sync: PriceSync,
    private readonly tx: Tx,
  ) {}

  /** Once `signal` aborts (the run was fenced, SPEC §9), no price list is written. */
  @Job('on-demand-pricing', {
    summary: (o: OnDemandPricingOutcome) => ({
      regions: o.regions.length,
      instanceTypes: o.regions.reduce((n, r) => n + r.instanceTypes, 0),
    }),
  })
  async fetchOnce(signal?: AbortSignal): Promise<OnDemandPricingOutcome> {
    const regions = await Promise.all(
      this.config.regions.map(async (region): Promise<RegionOnDemandOutcome> => {
        try {
          const prices = await this.fetchRegion(region);
          signal?.throwIfAborted();
          await this.tx.run((m) => this.prices.replaceRegion(region, prices, new Date(), m));
          return { region, instanceTypes: prices.length };
        } catch (err) {
          if (signal?.aborted) throw err;
          this.log.error({
            msg: 'on-demand pricing of region failed; keeping its last good prices',
            region,
            ...awsErrorFields(err),
          });
          return { region, instanceTypes: 0, error: err instanceof Error ? err.message : String(err) };
        }
      }),
    );
    // This replica's list shows them at once; the others within a sync interval.
    await this.sync.syncOnce();
    const outcome = { regions };
    if (regions.some((r) => r.error)) throw new OnDemandPricingError(outcome);
    return outcome;
  }

  async fetchRegion(region: string): Promise<NewOnDemandPrice[]> {
    const filters: Filter[] = Object.entries({ ...LINUX_SHARED, regionCode: region }).map(([Field, Value]) => ({
      Type: 'TERM_MATCH',
      Field,
      Value,
    }));
    const byType = new Map<string, number>();
    for await (const page of paginateGetProducts(
      { client: this.pricing(), pageSize: 100 },
      { ServiceCode: 'AmazonEC2', Filters: filters, FormatVersion: 'aws_v1' },
    )) {
      for (const item of page.PriceList ?? []) {
        const found = hourlyPrice(String(item), region);
        // Two products of one type (a rare duplicate listing): the dearer one, so costs are never understated.
        if (found) byType.set(found.instanceType, Math.max(found.price, byType.get(found.instanceType) ?? 0));
      }
    }
    return [...byType].map(([instanceType, price]) => ({ region, instanceType, price }));
  }

  onApplicationShutdown(): void {
    this.client?.destroy();
  }

  private pricing(): PricingClient {
    if (!this.client) {
      const region = this.config.pricingRegion;
      this.client = new PricingClient({
        ...clientOptions(this.config, region),
        endpoint: this.config.endpoints.pricing,
        retryMode: 'adaptive',
        maxAttempts: this.config.awsMaxAttempts,
      });
      instrument(this.client, 'pricing', region, this.metrics);
    }
    return this.client;
  }
}

/** The instance type and hourly USD price of one Price List product, or null when it is not what we asked for. */
export function hourlyPrice(json: string, region: string): { instanceType: string; price: number } | null {
  let doc: PriceListProduct;
  try {
    doc = JSON.parse(json) as PriceListProduct;
  } catch {
    return null;
  }
  const a = doc.product?.attributes ?? {};
  if (!a.instanceType || a.regionCode !== region) return null;
  if (Object.entries(LINUX_SHARED).some(([k, v]) => a[k] !== undefined && a[k] !== v)) return null;
  for (const term of Object.values(doc.terms?.OnDemand ?? {})) {
    for (const d of Object.values(term.priceDimensions ?? {})) {
      const price = Number(d.pricePerUnit?.USD);
      if (d.unit === 'Hrs' && Number.isFinite(price) && price > 0) return { instanceType: a.instanceType, price };
    }
  }
  return null;
}
