import { INSTANCE_TYPES } from './catalog';
import { Ec2Error } from './errors';

export type Lifecycle = 'spot' | 'on-demand';
export const LIFECYCLES: readonly Lifecycle[] = ['spot', 'on-demand'];

export interface Quota {
  /** Running (pending + running) vCPUs; spot also counts open requests, as EC2 does. */
  vcpus?: number;
  /** Running instances. */
  instances?: number;
}

export interface QuotaUsage {
  vcpus: number;
  instances: number;
}

/**
 * What a region can still give: per-pool capacity (by lifecycle, zone and instance type) and the account's quotas
 * per lifecycle. Usage is counted as instances start and stop, so every check is O(1) whatever the fleet size.
 * Simplification: EC2 keeps one vCPU quota per instance-family bucket; the sandbox keeps one per lifecycle.
 */
export class RegionCapacity {
  private readonly limits = new Map<string, number>();
  private readonly live = new Map<string, number>();
  private readonly usage: Record<Lifecycle, QuotaUsage> = {
    spot: { vcpus: 0, instances: 0 },
    'on-demand': { vcpus: 0, instances: 0 },
  };
  /** Open (unfulfilled) spot requests hold their vCPUs against the spot quota. */
  private readonly openSpot: QuotaUsage = { vcpus: 0, instances: 0 };
  readonly quotas: Record<Lifecycle, Quota> = { spot: {}, 'on-demand': {} };
  /** CreateFleet calls that may still succeed; undefined: unlimited. */
  fleetsLeft: number | undefined;

  /** An instance entered (+1) or left (-1) pending/running. */
  instanceCounted(lifecycle: Lifecycle, zone: string, instanceType: string, delta: number): void {
    const key = poolKey(lifecycle, zone, instanceType);
    this.live.set(key, (this.live.get(key) ?? 0) + delta);
    this.usage[lifecycle].instances += delta;
    this.usage[lifecycle].vcpus += delta * vcpusOf(instanceType);
  }

  /** A spot request opened (+1) or stopped being open (-1). */
  openSpotCounted(instanceType: string, delta: number): void {
    this.openSpot.instances += delta;
    this.openSpot.vcpus += delta * vcpusOf(instanceType);
  }

  setLimit(lifecycle: Lifecycle, zone: string, instanceType: string, capacity: number | null): void {
    const key = poolKey(lifecycle, zone, instanceType);
    if (capacity === null) this.limits.delete(key);
    else this.limits.set(key, capacity);
  }

  limit(lifecycle: Lifecycle, zone: string, instanceType: string): number {
    return this.limits.get(poolKey(lifecycle, zone, instanceType)) ?? Number.POSITIVE_INFINITY;
  }

  used(lifecycle: Lifecycle, zone: string, instanceType: string): number {
    return this.live.get(poolKey(lifecycle, zone, instanceType)) ?? 0;
  }

  /** How many more instances the pool holds now. */
  poolRoom(lifecycle: Lifecycle, zone: string, instanceType: string): number {
    return Math.max(0, this.limit(lifecycle, zone, instanceType) - this.used(lifecycle, zone, instanceType));
  }

  inUse(lifecycle: Lifecycle): QuotaUsage {
    const running = this.usage[lifecycle];
    if (lifecycle === 'on-demand') return { ...running };
    return { vcpus: running.vcpus + this.openSpot.vcpus, instances: running.instances + this.openSpot.instances };
  }

  /** How many more instances of the type the lifecycle's quotas allow, beyond what a caller already `reserved`. */
  quotaRoom(lifecycle: Lifecycle, instanceType: string, reserved: QuotaUsage = { vcpus: 0, instances: 0 }): number {
    const quota = this.quotas[lifecycle];
    const used = this.inUse(lifecycle);
    let room = Number.POSITIVE_INFINITY;
    if (quota.vcpus !== undefined) {
      room = Math.floor((quota.vcpus - used.vcpus - reserved.vcpus) / vcpusOf(instanceType));
    }
    if (quota.instances !== undefined) room = Math.min(room, quota.instances - used.instances - reserved.instances);
    return Math.max(0, room);
  }

  /** EC2's answer when a launch of at least `requested` instances would exceed a quota. */
  quotaError(lifecycle: Lifecycle, instanceType: string, requested: number): Ec2Error {
    const quota = this.quotas[lifecycle];
    if (lifecycle === 'spot') return new Ec2Error('MaxSpotInstanceCountExceeded', 'Max spot instance count exceeded');
    const used = this.inUse(lifecycle);
    if (quota.instances !== undefined && quota.instances - used.instances < requested) {
      return new Ec2Error(
        'InstanceLimitExceeded',
        `Your quota allows for ${Math.max(0, quota.instances - used.instances)} more running instance(s). You requested at least ${requested}.`,
      );
    }
    return new Ec2Error(
      'VcpuLimitExceeded',
      `You have requested more vCPU capacity than your current vCPU limit of ${quota.vcpus ?? 0} allows for the instance bucket that the specified instance type (${instanceType}) belongs to. Please visit http://aws.amazon.com/contact-us/ec2-request to request an adjustment to this limit.`,
    );
  }
}

export function vcpusOf(instanceType: string): number {
  return INSTANCE_TYPES[instanceType]?.vcpus ?? 1;
}

/** EC2's wording for a pool without capacity: `zone` is the one asked for, `others` those that still have some. */
export function insufficientCapacity(instanceType: string, zone: string | undefined, others: string[]): Ec2Error {
  const message =
    zone === undefined
      ? `We currently do not have sufficient ${instanceType} capacity in the Availability Zones you requested. Our system will be working on provisioning additional capacity.`
      : `We currently do not have sufficient ${instanceType} capacity in the Availability Zone you requested (${zone}). Our system will be working on provisioning additional capacity.` +
        (others.length > 0
          ? ` You can currently get ${instanceType} capacity by not specifying an Availability Zone in your request or choosing ${others.join(', ')}.`
          : '');
  return new Ec2Error('InsufficientInstanceCapacity', message, 500);
}

function poolKey(lifecycle: Lifecycle, zone: string, instanceType: string): string {
  return `${lifecycle}|${zone}|${instanceType}`;
}
