import { Injectable } from '@nestjs/common';
import { ServiceUnavailableError } from '../common/errors';

export const PRICE_TYPES = ['spot', 'on-demand'] as const;
export type PriceType = (typeof PRICE_TYPES)[number];

export interface PriceEntry {
  region: string;
  zone: string;
  instanceType: string;
  /** USD per hour: the highest spot price of the window (SPEC §7), or the on-demand price (SPEC §12). */
  price: number;
  type: PriceType;
  /** Set while this pool of this lifecycle is in a capacity cooldown (SPEC §5, §11): EC2 had no room in it. */
  capacityCooldown?: { until: Date; reason: string };
  /** Set while the account's quota of this lifecycle in this region is used up (SPEC §11): no pool of it can launch. */
  quotaCooldown?: { until: Date; reason: string };
}

/** A pool EC2 recently could not fill; `az` is `*` for every zone of the region. */
export interface PoolCooldown {
  /** `spot` or `on-demand`: EC2's two kinds of capacity (and quotas) run out apart. */
  lifecycle: string;
  region: string;
  az: string;
  instanceType: string;
  until: Date;
  reason: string;
}

/** The keys a restriction may name (SPEC §7). */
export const RESTRICTION_KEYS = ['instanceType', 'region', 'zone', 'type', 'price', 'minPrice', 'maxPrice'] as const;
export type RestrictionKey = (typeof RESTRICTION_KEYS)[number];

/** A validated restriction: strings for the text keys (any match), a number for the price keys. */
export type Restriction =
  | { key: 'instanceType' | 'region' | 'zone' | 'type'; restriction: string[] }
  | { key: 'price' | 'minPrice' | 'maxPrice'; restriction: number };

function holds(entry: PriceEntry, r: Restriction): boolean {
  switch (r.key) {
    case 'instanceType':
    case 'region':
    case 'zone':
    case 'type':
      return r.restriction.includes(entry[r.key]);
    case 'price':
      return entry.price === r.restriction;
    case 'minPrice':
      return entry.price >= r.restriction;
    case 'maxPrice':
      return entry.price <= r.restriction;
  }
}

/** The entries meeting every restriction (an empty list of restrictions keeps everything). */
export function applyRestrictions(list: readonly PriceEntry[], restrictions: readonly Restriction[]): PriceEntry[] {
  return list.filter((entry) => restrictions.every((r) => holds(entry, r)));
}

/**
 * The last good spot price list. The pricing poller fills it; a failed poll leaves it as it was.
 * Until the first fill, reading it is a 503: answering an empty list would look like "no prices".
 */
@Injectable()
export class PriceCache {
  private current: { entries: PriceEntry[]; updated: Date } | null = null;
  private cooldowns = new Map<string, PoolCooldown>();
  private quotaCooldowns = new Map<string, { until: Date; reason: string }>();

  /**
   * The pools in capacity cooldown now, and the (region, lifecycle) quotas in cooldown; each entry is shown
   * those of its own lifecycle whenever the list is read.
   */
  setCooldowns(
    cooldowns: readonly PoolCooldown[],
    quota: readonly { region: string; lifecycle: string; until: Date; reason: string }[] = [],
  ): void {
    this.cooldowns = new Map(cooldowns.map((c) => [`${c.lifecycle}|${c.region}|${c.az}|${c.instanceType}`, c]));
    this.quotaCooldowns = new Map(
      quota.map((q) => [`${q.lifecycle}|${q.region}`, { until: q.until, reason: q.reason }]),
    );
  }

  set(entries: readonly PriceEntry[], at: Date = new Date()): void {
    const sorted = [...entries].sort(
      (a, b) =>
        a.price - b.price ||
        a.region.localeCompare(b.region) ||
        a.zone.localeCompare(b.zone) ||
        a.instanceType.localeCompare(b.instanceType),
    );
    this.current = { entries: sorted, updated: at };
  }

  /** When the list was last filled, or null before the first fill. */
  updated(): Date | null {
    return this.current?.updated ?? null;
  }

  list(): PriceEntry[] {
    if (!this.current) {
      throw new ServiceUnavailableError('spot prices are not known yet: the first pricing poll has not completed', {
        retryAfterSeconds: 30,
      });
    }
    if (this.cooldowns.size === 0 && this.quotaCooldowns.size === 0) return [...this.current.entries];
    const now = Date.now();
    return this.current.entries.map((e) => {
      const c =
        this.cooldowns.get(`${e.type}|${e.region}|${e.zone}|${e.instanceType}`) ??
        this.cooldowns.get(`${e.type}|${e.region}|*|${e.instanceType}`);
      const q = this.quotaCooldowns.get(`${e.type}|${e.region}`);
      return {
        ...e,
        ...(c && c.until.getTime() > now ? { capacityCooldown: { until: c.until, reason: c.reason } } : {}),
        ...(q && q.until.getTime() > now ? { quotaCooldown: q } : {}),
      };
    });
  }

  filtered(restrictions: readonly Restriction[]): PriceEntry[] {
    return applyRestrictions(this.list(), restrictions);
  }
}
