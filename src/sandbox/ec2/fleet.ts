import { Lifecycle, vcpusOf } from './capacity';
import { Ec2Error, missingParameter } from './errors';
import { launchSpecFrom, mergeLaunchData, validateLaunchSpec } from './launch';
import { LaunchSpec, LaunchTemplate, RegionState, TemplateData } from './model';
import { onDemandPrice } from './prices';
import type { SimEc2 } from './sim-ec2';
import { formatPrice } from './spot';
import { findTemplate, findVersion, TemplateRef } from './templates';
import { XmlObject } from './xml';

export const SPOT_STRATEGIES = [
  'lowest-price',
  'diversified',
  'capacity-optimized',
  'capacity-optimized-prioritized',
  'price-capacity-optimized',
] as const;
export type SpotStrategy = (typeof SPOT_STRATEGIES)[number];
export const ON_DEMAND_STRATEGIES = ['lowest-price', 'prioritized'] as const;
export type OnDemandStrategy = (typeof ON_DEMAND_STRATEGIES)[number];

export interface FleetOverride {
  instanceType?: string;
  availabilityZone?: string;
  subnetId?: string;
  maxPrice?: string;
  weightedCapacity?: number;
  priority?: number;
  imageId?: string;
}

export interface FleetConfig {
  template: TemplateRef;
  overrides: FleetOverride[];
}

export interface LifecycleOptions<S extends string> {
  strategy: S;
  maxTotalPrice?: number;
  minTargetCapacity?: number;
}

export interface FleetRequest {
  configs: FleetConfig[];
  spotTarget: number;
  onDemandTarget: number;
  spot: LifecycleOptions<SpotStrategy>;
  onDemand: LifecycleOptions<OnDemandStrategy>;
  tags: { instance: Map<string, string>; fleet: Map<string, string> };
}

/** One capacity pool a fleet may launch into: a template config × an override, in one zone. */
interface Pool {
  readonly index: number;
  readonly template?: LaunchTemplate;
  readonly ref: TemplateRef;
  readonly override: FleetOverride;
  readonly zone?: string;
  readonly spec?: LaunchSpec;
  readonly data?: TemplateData;
  /** The pool cannot launch at all (no such template, AMI, key pair, subnet, …). */
  readonly invalid?: Ec2Error;
  readonly weight: number;
}

interface Launch {
  pool: Pool;
  lifecycle: Lifecycle;
  count: number;
}

interface PoolError {
  pool: Pool;
  lifecycle: Lifecycle;
  error: Ec2Error;
}

/** A fleet's plan: what to launch where, and the per-pool errors EC2 would report. */
export interface FleetPlan {
  launches: Launch[];
  errors: PoolError[];
  pools: Pool[];
}

/** Resolves every config × override into pools; problems with a template or a launch become that pool's error. */
export function buildPools(region: RegionState, request: FleetRequest): Pool[] {
  const pools: Pool[] = [];
  for (const config of request.configs) {
    let template: LaunchTemplate | undefined;
    let base: TemplateData | undefined;
    let invalid: Ec2Error | undefined;
    try {
      template = findTemplate(region, config.template, 'LaunchTemplateSpecification.');
      base = findVersion(template, config.template.version).data;
    } catch (err) {
      if (!(err instanceof Ec2Error)) throw err;
      invalid = err;
    }
    const overrides = config.overrides.length > 0 ? config.overrides : [{}];
    for (const override of overrides) {
      const common = { ref: config.template, override, weight: override.weightedCapacity ?? 1, template };
      if (invalid || !base) {
        pools.push({ ...common, index: pools.length, zone: override.availabilityZone, invalid });
        continue;
      }
      const data = mergeLaunchData(base, {
        securityGroupIds: [],
        securityGroups: [],
        blockDevices: [],
        networkInterfaces: [],
        tagSpecifications: new Map(),
        instanceType: override.instanceType,
        imageId: override.imageId,
        zone: override.availabilityZone,
        subnetId: override.subnetId,
      });
      let spec: LaunchSpec | undefined;
      let problem: Ec2Error | undefined;
      try {
        if (!data.instanceType) throw missingParameter('Overrides.InstanceType');
        spec = validateLaunchSpec(region, launchSpecFrom(data, data.instanceType, 'LaunchTemplateData.ImageId'));
      } catch (err) {
        if (!(err instanceof Ec2Error)) throw err;
        problem = err;
      }
      if (!spec || problem) {
        pools.push({ ...common, index: pools.length, zone: override.availabilityZone, data, invalid: problem });
        continue;
      }
      // An override with neither zone nor subnet may land in any zone of the region: one pool per zone.
      const zones = spec.zone !== undefined ? [spec.zone] : region.zones.map((z) => z.name);
      for (const zone of zones) {
        pools.push({ ...common, index: pools.length, zone, spec: { ...spec, zone }, data });
      }
    }
  }
  return pools;
}

/**
 * Decides what an instant fleet launches, pool by pool, without changing anything. Documented simplifications of
 * EC2's allocation strategies: `lowest-price` fills the cheapest pools first; `capacity-optimized` the pools with the
 * most spare capacity; `price-capacity-optimized` the pools with the most spare capacity among the cheaper half of
 * those that have any, then the rest; `diversified` spreads one instance at a time over every pool with room.
 */
export function planFleet(ec2: SimEc2, region: RegionState, request: FleetRequest, pools: Pool[]): FleetPlan {
  const plan: FleetPlan = { launches: [], errors: [], pools };
  const taken = new Map<string, number>();
  for (const lifecycle of ['spot', 'on-demand'] as const) {
    const target = lifecycle === 'spot' ? request.spotTarget : request.onDemandTarget;
    if (target <= 0) continue;
    for (const pool of pools) if (pool.invalid) plan.errors.push({ pool, lifecycle, error: pool.invalid });
    const valid = pools.filter((p) => !p.invalid && p.spec);
    const options = lifecycle === 'spot' ? request.spot : request.onDemand;
    const planned = allocate(ec2, region, lifecycle, valid, target, options, taken);
    const fulfilled = planned.launches.reduce((sum, l) => sum + l.count * l.pool.weight, 0);
    if (options.minTargetCapacity !== undefined && fulfilled < options.minTargetCapacity) {
      // All or nothing below the minimum: nothing of this lifecycle is launched.
      for (const l of planned.launches) release(taken, l);
      plan.errors.push(...planned.errors);
      if (planned.errors.length === 0 && valid[0]) {
        plan.errors.push({ pool: valid[0], lifecycle, error: unfulfillable() });
      }
      continue;
    }
    plan.launches.push(...planned.launches);
    plan.errors.push(...planned.errors);
  }
  return plan;
}

type Shortfall = 'price' | 'quota' | 'capacity';

function allocate(
  ec2: SimEc2,
  region: RegionState,
  lifecycle: Lifecycle,
  pools: Pool[],
  target: number,
  options: LifecycleOptions<string>,
  taken: Map<string, number>,
): { launches: Launch[]; errors: PoolError[] } {
  const capacity = region.capacity;
  const price = (p: Pool) => poolPrice(ec2, region, lifecycle, p);
  const maxPrice = (p: Pool) =>
    Number(p.override.maxPrice ?? p.data?.spot?.maxPrice ?? onDemandPrice(region.name, typeOf(p)));
  const affordable = (p: Pool) => lifecycle === 'on-demand' || price(p) <= maxPrice(p);
  const room = (p: Pool) =>
    affordable(p) ? capacity.poolRoom(lifecycle, zoneOf(p), typeOf(p)) - (taken.get(takenKey(lifecycle, p)) ?? 0) : 0;
  const reserved = { vcpus: 0, instances: 0 };
  const quotaRoom = (p: Pool) => capacity.quotaRoom(lifecycle, typeOf(p), reserved);
  let spent = 0;
  const budget = (p: Pool) =>
    options.maxTotalPrice === undefined
      ? Number.POSITIVE_INFINITY
      : Math.floor((options.maxTotalPrice - spent) / price(p) + 1e-9);

  const order = orderPools(pools.filter(affordable), options.strategy, price, room);
  // Pools priced out come last: reached only if the others cannot fill the target, then reported.
  order.push(...pools.filter((p) => !affordable(p)));

  const launches = new Map<Pool, number>();
  const errors: PoolError[] = [];
  let remaining = target;
  const take = (p: Pool, n: number) => {
    launches.set(p, (launches.get(p) ?? 0) + n);
    taken.set(takenKey(lifecycle, p), (taken.get(takenKey(lifecycle, p)) ?? 0) + n);
    remaining -= n * p.weight;
    spent += n * price(p);
    reserved.vcpus += n * vcpusOf(typeOf(p));
    reserved.instances += n;
  };
  /** Why a pool cannot give `want` more; undefined when only the price ceiling stops it (not an error on EC2). */
  const shortfall = (p: Pool, want: number): Shortfall | undefined => {
    if (!affordable(p)) return 'price';
    const limit = Math.min(room(p), quotaRoom(p));
    if (limit >= want || budget(p) <= limit) return undefined;
    return quotaRoom(p) < room(p) ? 'quota' : 'capacity';
  };
  const fail = (p: Pool, why: Shortfall, want: number) => {
    const error =
      why === 'price'
        ? priceTooLow(maxPrice(p), price(p))
        : why === 'quota'
          ? capacity.quotaError(lifecycle, typeOf(p), want)
          : insufficient(lifecycle, p);
    errors.push({ pool: p, lifecycle, error });
  };

  if (options.strategy === 'diversified') {
    const reached = new Set<Pool>();
    let progress = true;
    while (remaining > 0 && progress) {
      progress = false;
      for (const p of order) {
        if (remaining <= 0) break;
        reached.add(p);
        if (Math.min(room(p), quotaRoom(p), budget(p)) < 1) continue;
        take(p, 1);
        progress = true;
      }
    }
    // A pool that gave nothing, or ran dry before the target was met, is reported as EC2 reports a failed pool.
    for (const p of order) {
      if (!reached.has(p) || (remaining <= 0 && launches.has(p))) continue;
      const why = shortfall(p, 1);
      if (why) fail(p, why, 1);
    }
  } else {
    for (const p of order) {
      if (remaining <= 0) break;
      const want = Math.ceil(remaining / p.weight);
      const why = shortfall(p, want);
      const n = Math.max(0, Math.min(want, room(p), quotaRoom(p), budget(p)));
      if (n > 0) take(p, n);
      if (why) fail(p, why, want - n);
    }
  }
  return { launches: [...launches].map(([pool, count]) => ({ pool, lifecycle, count })), errors };
}

function orderPools(
  pools: Pool[],
  strategy: string,
  price: (p: Pool) => number,
  room: (p: Pool) => number,
): Pool[] {
  const byPrice = (a: Pool, b: Pool) => price(a) - price(b) || a.index - b.index;
  const byRoom = (a: Pool, b: Pool) => room(b) - room(a) || byPrice(a, b);
  const byPriority = (a: Pool, b: Pool) =>
    (a.override.priority ?? Number.POSITIVE_INFINITY) - (b.override.priority ?? Number.POSITIVE_INFINITY) ||
    a.index - b.index;
  switch (strategy) {
    case 'capacity-optimized':
      return [...pools].sort(byRoom);
    case 'capacity-optimized-prioritized':
      return [...pools].sort((a, b) => room(b) - room(a) || byPriority(a, b));
    case 'price-capacity-optimized': {
      const open = pools.filter((p) => room(p) > 0).sort(byPrice);
      const cheaper = open.slice(0, Math.ceil(open.length / 2)).sort(byRoom);
      const rest = open.slice(cheaper.length).sort(byRoom);
      return [...cheaper, ...rest, ...pools.filter((p) => room(p) <= 0).sort(byPrice)];
    }
    case 'prioritized':
      return [...pools].sort(byPriority);
    default:
      return [...pools].sort(byPrice);
  }
}

function release(taken: Map<string, number>, launch: Launch): void {
  const key = takenKey(launch.lifecycle, launch.pool);
  taken.set(key, (taken.get(key) ?? 0) - launch.count);
}

function typeOf(p: Pool): string {
  return p.spec?.instanceType ?? '';
}

function zoneOf(p: Pool): string {
  return p.spec?.zone ?? '';
}

function takenKey(lifecycle: Lifecycle, p: Pool): string {
  return `${lifecycle}|${zoneOf(p)}|${typeOf(p)}`;
}

export function poolPrice(ec2: SimEc2, region: RegionState, lifecycle: Lifecycle, p: Pool): number {
  return lifecycle === 'spot'
    ? ec2.market.price(region.name, zoneOf(p), typeOf(p))
    : onDemandPrice(region.name, typeOf(p));
}

function insufficient(lifecycle: Lifecycle, p: Pool): Ec2Error {
  return lifecycle === 'spot'
    ? new Ec2Error('InsufficientInstanceCapacity', 'There is no Spot capacity available that matches your request.')
    : new Ec2Error(
        'InsufficientInstanceCapacity',
        `We currently do not have sufficient ${typeOf(p)} capacity in the Availability Zone you requested (${zoneOf(p)}). Our system will be working on provisioning additional capacity.`,
      );
}

function priceTooLow(bid: number, price: number): Ec2Error {
  return new Ec2Error(
    'SpotMaxPriceTooLow',
    `Your Spot request price of ${formatPrice(bid)} is lower than the minimum required Spot request fulfillment price of ${formatPrice(price)}.`,
  );
}

function unfulfillable(): Ec2Error {
  return new Ec2Error(
    'UnfulfillableCapacity',
    'Unable to fulfill capacity due to your request configuration. Please adjust your request and try again.',
  );
}

/** LaunchTemplateAndOverrides as EC2 echoes it: the override as given, with the zone the pool lies in. */
export function renderPool(p: Pool): XmlObject {
  return {
    launchTemplateSpecification: {
      launchTemplateId: p.template?.launchTemplateId ?? p.ref.id,
      launchTemplateName: p.template?.launchTemplateName ?? p.ref.name,
      version: p.ref.version,
    },
    overrides: {
      instanceType: p.override.instanceType ?? p.spec?.instanceType,
      maxPrice: p.override.maxPrice,
      subnetId: p.override.subnetId,
      availabilityZone: p.zone,
      weightedCapacity: p.override.weightedCapacity,
      priority: p.override.priority,
      imageId: p.override.imageId,
    },
  };
}

export type { Pool, Launch, PoolError };
