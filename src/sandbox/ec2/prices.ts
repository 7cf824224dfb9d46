import { SimClock } from '../clock';
import { hash32 } from '../random';
import { INSTANCE_TYPES, ProductDescription } from './catalog';

interface Override {
  since: number;
  /** `null` hands the pool back to the simulated market. */
  price: number | null;
}

export interface PricePoint {
  zone: string;
  instanceType: string;
  productDescription: ProductDescription;
  price: number;
  timestamp: number;
}

const HISTORY_LIMIT_MS = 90 * 24 * 3600 * 1000;

/**
 * Spot market per (region, zone, instance type). Prices are a deterministic function of the pool and the
 * `intervalSeconds` step, so any past window can be replayed without storing it; control overrides pin a
 * pool from a given time. Windows prices are twice the Linux price; the VPC variants equal their base.
 */
export class SpotMarket {
  private readonly overrides = new Map<string, Override[]>();

  constructor(
    private readonly clock: SimClock,
    private readonly intervalSeconds: number,
  ) {}

  reset(): void {
    this.overrides.clear();
  }

  price(region: string, zone: string, instanceType: string, at = this.clock.now()): number {
    const override = this.overrideAt(region, zone, instanceType, at);
    return override ?? this.generated(region, zone, instanceType, this.step(at));
  }

  setPrice(region: string, zone: string, instanceType: string, price: number | null): void {
    const key = poolKey(region, zone, instanceType);
    const list = this.overrides.get(key) ?? [];
    const now = this.clock.now();
    // The clock may have been moved back; later overrides no longer describe the future we are heading into.
    const kept = list.filter((o) => o.since < now);
    kept.push({ since: now, price });
    this.overrides.set(key, kept);
  }

  /** Every price change in `[start, end]` plus the one in effect at `start`, newest first, per pool. */
  history(
    region: string,
    pools: { zone: string; instanceType: string }[],
    descriptions: readonly ProductDescription[],
    start: number,
    end: number,
  ): PricePoint[] {
    const from = Math.max(start, end - HISTORY_LIMIT_MS);
    const points: PricePoint[] = [];
    for (const { zone, instanceType } of pools) {
      const changes = this.changeTimes(region, zone, instanceType, from, end);
      let previous: number | undefined;
      const linux: { timestamp: number; price: number }[] = [];
      for (const t of changes) {
        const price = this.price(region, zone, instanceType, t);
        if (price !== previous) linux.push({ timestamp: t, price });
        previous = price;
      }
      for (const productDescription of descriptions) {
        const factor = productDescription.startsWith('Windows') ? 2 : 1;
        for (const p of linux) {
          points.push({
            zone,
            instanceType,
            productDescription,
            price: round(p.price * factor),
            timestamp: p.timestamp,
          });
        }
      }
    }
    return points.sort((a, b) => b.timestamp - a.timestamp);
  }

  private changeTimes(region: string, zone: string, instanceType: string, from: number, to: number): number[] {
    const interval = this.intervalSeconds * 1000;
    const overrides = this.overrides.get(poolKey(region, zone, instanceType)) ?? [];
    let effective = Math.floor(from / interval) * interval;
    for (const o of overrides) if (o.since <= from && o.since > effective) effective = o.since;
    const times = new Set<number>([effective]);
    for (let t = effective + interval - (effective % interval); t <= to; t += interval) times.add(t);
    for (const o of overrides) if (o.since > from && o.since <= to) times.add(o.since);
    return [...times].sort((a, b) => a - b);
  }

  private overrideAt(region: string, zone: string, instanceType: string, at: number): number | null {
    const list = this.overrides.get(poolKey(region, zone, instanceType));
    if (!list) return null;
    let found: Override | undefined;
    for (const o of list) if (o.since <= at) found = o;
    return found?.price ?? null;
  }

  private step(at: number): number {
    return Math.floor(at / (this.intervalSeconds * 1000));
  }

  private generated(region: string, zone: string, instanceType: string, step: number): number {
    const noise = hash32(`${region}|${zone}|${instanceType}|${step}`) / 4294967296;
    return round(unroundedOnDemand(region, instanceType) * (0.25 + 0.3 * noise));
  }
}

/** Regions cost from 0.9× to 1.3× the us-east-1 catalog price, deterministically per region name. */
function unroundedOnDemand(region: string, instanceType: string): number {
  const base = INSTANCE_TYPES[instanceType]?.onDemand ?? 0.1;
  return base * (0.9 + (hash32(region) % 1000) / 2500);
}

/**
 * The Linux on-demand price of a type in a region (USD per hour, 4 decimals as the Price List shows them): the
 * ceiling the spot market moves under (25–55 % of it) and the default spot bid.
 */
export function onDemandPrice(region: string, instanceType: string): number {
  return Math.round(unroundedOnDemand(region, instanceType) * 1e4) / 1e4;
}

function poolKey(region: string, zone: string, instanceType: string): string {
  return `${region}|${zone}|${instanceType}`;
}

function round(price: number): number {
  return Math.round(price * 1e6) / 1e6;
}
