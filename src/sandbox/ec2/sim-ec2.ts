import { SimClock } from '../clock';
import { SEED_IMAGES, zonesFor } from './catalog';
import { Instance, RegionState } from './model';
import { InstanceLifecycle } from './instances';
import { SpotMarket } from './prices';
import { SpotRequests } from './spot';
import { Volumes } from './volumes';

export interface Ec2Timings {
  pendingToRunningSeconds: number;
  shuttingDownSeconds: number;
  /** How long a terminated instance stays visible before it vanishes, as on EC2 (about an hour). */
  terminatedRetentionSeconds: number;
  spotEvaluationSeconds: number;
  /** How often an unfulfilled open spot request is evaluated again. */
  spotRetrySeconds: number;
  closedSpotRetentionSeconds: number;
  interruptionNoticeSeconds: number;
}

export const DEFAULT_TIMINGS: Ec2Timings = {
  pendingToRunningSeconds: 10,
  shuttingDownSeconds: 20,
  terminatedRetentionSeconds: 3600,
  spotEvaluationSeconds: 2,
  spotRetrySeconds: 30,
  closedSpotRetentionSeconds: 4 * 3600,
  interruptionNoticeSeconds: 120,
};

/** Where the simulated EC2 reports what EventBridge would see. */
export interface Ec2EventSink {
  stateChanged(instance: Instance): void;
  interruptionWarning(instance: Instance): void;
  rebalanceRecommendation(instance: Instance): void;
}

export interface SimEc2Options {
  regions: string[];
  accountId: string;
  zonesPerRegion: number;
  timings: Ec2Timings;
}

/** The simulated EC2 of one account: per-region state plus the lifecycles acting on it. */
export class SimEc2 {
  readonly regions = new Map<string, RegionState>();
  readonly instances: InstanceLifecycle;
  readonly volumes: Volumes;
  readonly spot: SpotRequests;

  constructor(
    readonly options: SimEc2Options,
    readonly clock: SimClock,
    readonly market: SpotMarket,
    readonly events: Ec2EventSink,
  ) {
    this.volumes = new Volumes(this);
    this.instances = new InstanceLifecycle(this);
    this.spot = new SpotRequests(this);
    this.reset();
  }

  get accountId(): string {
    return this.options.accountId;
  }

  get timings(): Ec2Timings {
    return this.options.timings;
  }

  reset(): void {
    this.regions.clear();
    for (const name of this.options.regions) {
      const region = new RegionState(name, zonesFor(name, this.options.zonesPerRegion));
      for (const seed of SEED_IMAGES) this.registerImage(region, seed.imageId, seed.name, seed.arch);
      this.regions.set(name, region);
    }
  }

  region(name: string): RegionState | undefined {
    return this.regions.get(name);
  }

  registerImage(region: RegionState, imageId: string, name: string, architecture: 'x86_64' | 'arm64'): void {
    region.images.set(imageId, {
      imageId,
      name,
      architecture,
      ownerId: this.accountId,
      creationDate: Date.UTC(2024, 0, 1),
      rootDeviceName: '/dev/xvda',
      rootVolumeSize: 8,
      tags: new Map(),
    });
  }

  /** Instance ids are unique across regions, so control operations may omit the region. */
  findInstance(instanceId: string): Instance | undefined {
    for (const region of this.regions.values()) {
      const found = region.instances.get(instanceId);
      if (found) return found;
    }
    return undefined;
  }
}
