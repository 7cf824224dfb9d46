import { hexId, uniqueId } from '../ids';
import { Lifecycle } from './capacity';
import { INSTANCE_TYPES } from './catalog';
import { Instance, InstanceStateName, LaunchSpec, MetadataOptions, RegionState, Tags } from './model';
import type { SimEc2 } from './sim-ec2';

/** EC2's instance metadata defaults when a launch says nothing. */
export const METADATA_DEFAULTS: MetadataOptions = {
  httpTokens: 'optional',
  httpPutResponseHopLimit: 1,
  httpEndpoint: 'enabled',
  httpProtocolIpv6: 'disabled',
  instanceMetadataTags: 'disabled',
};

export interface LaunchOptions {
  count: number;
  zone: string;
  tags?: Tags;
  volumeTags?: Tags;
  /** One spot request id per launched instance, for spot launches. */
  spotRequestIds?: string[];
  clientToken?: string;
  /** Seeding only: start in this state at this launch time, without events unless asked. */
  state?: InstanceStateName;
  launchTime?: number;
  emitEvents?: boolean;
}

export interface StateChange {
  instance: Instance;
  previous: InstanceStateName;
}

/**
 * Why an instance ends: TerminateInstances (`user`), a spot interruption, a shutdown from inside the
 * instance (`instance-initiated`: it terminates, or stops when its shutdown behaviour is `stop`), or EC2
 * losing the capacity it was launched on (`insufficient-capacity`).
 */
export const END_CAUSES = ['user', 'interruption', 'instance-initiated', 'insufficient-capacity'] as const;
export type EndCause = (typeof END_CAUSES)[number];

/** EC2's StateReason for each cause, as DescribeInstances shows it. */
export const STATE_REASONS: Record<EndCause, { code: string; message: string }> = {
  user: { code: 'Client.UserInitiatedShutdown', message: 'Client.UserInitiatedShutdown: User initiated shutdown' },
  interruption: {
    code: 'Server.SpotInstanceTermination',
    message: 'Server.SpotInstanceTermination: Spot instance termination',
  },
  'instance-initiated': {
    code: 'Client.InstanceInitiatedShutdown',
    message: 'Client.InstanceInitiatedShutdown: Instance initiated shutdown',
  },
  'insufficient-capacity': {
    code: 'Server.InsufficientInstanceCapacity',
    message: 'Server.InsufficientInstanceCapacity: Insufficient capacity to satisfy instance request',
  },
};
export const SPOT_TERMINATION_REASON = STATE_REASONS.interruption;
const USER_TERMINATION_REASON = STATE_REASONS.user;

/** Launches instances and moves them `pending → running → shutting-down → terminated → gone` on the clock. */
export class InstanceLifecycle {
  constructor(private readonly ec2: SimEc2) {}

  launch(region: RegionState, spec: LaunchSpec, opts: LaunchOptions): Instance[] {
    const now = this.ec2.clock.now();
    const reservationId = uniqueId(
      () => hexId('r'),
      (id) => region.reservations.has(id),
    );
    const image = region.images.get(spec.imageId);
    const state = opts.state ?? 'pending';
    const emit = opts.emitEvents ?? opts.state === undefined;
    const launched: Instance[] = [];
    for (let index = 0; index < opts.count; index++) {
      const seq = region.nextSeq();
      const instance: Instance = {
        seq,
        removed: false,
        instanceId: uniqueId(
          () => hexId('i'),
          (id) => this.ec2.findInstance(id) !== undefined,
        ),
        region: region.name,
        reservationId,
        imageId: spec.imageId,
        instanceType: spec.instanceType,
        keyName: spec.keyName,
        zone: opts.zone,
        architecture: image?.architecture ?? INSTANCE_TYPES[spec.instanceType]?.arch ?? 'x86_64',
        launchTime: opts.launchTime ?? now,
        createdAt: now,
        amiLaunchIndex: index,
        privateIp: ipFor(seq),
        rootDeviceName: image?.rootDeviceName ?? '/dev/xvda',
        spotInstanceRequestId: opts.spotRequestIds?.[index],
        clientToken: opts.clientToken,
        subnetId: spec.subnetId,
        securityGroupIds: spec.securityGroupIds,
        userData: spec.userData,
        metadataOptions: { ...METADATA_DEFAULTS, ...spec.metadataOptions },
        shutdownBehavior: spec.shutdownBehavior ?? 'stop',
        iamInstanceProfile: spec.iamInstanceProfile && {
          arn:
            spec.iamInstanceProfile.arn ??
            `arn:aws:iam::${this.ec2.accountId}:instance-profile/${spec.iamInstanceProfile.name ?? ''}`,
          name: spec.iamInstanceProfile.name,
        },
        cpuCredits: spec.cpuCredits,
        state,
        stateTransitionReason: '',
        tags: new Map(opts.tags ?? []),
        blockDevices: [],
      };
      if (state !== 'terminated') {
        instance.blockDevices = this.ec2.volumes.createFor(region, instance, spec.blockDevices, opts.volumeTags);
      }
      if (state === 'shutting-down' || state === 'terminated') instance.stateReason = USER_TERMINATION_REASON;
      region.addInstance(instance);
      if (isLive(state)) this.countInPool(region, instance, +1);
      launched.push(instance);
      if (emit) this.ec2.events.stateChanged(instance);
      this.scheduleNext(instance);
    }
    region.reservations.set(reservationId, launched.length);
    return launched;
  }

  /** TerminateInstances: returns the state each instance was in. */
  terminate(instance: Instance, cause: EndCause = 'user'): StateChange {
    const previous = instance.state;
    if (previous === 'shutting-down' || previous === 'terminated') return { instance, previous };
    instance.stateReason = STATE_REASONS[cause];
    instance.stateTransitionReason = this.transitionReason(cause);
    this.transition(instance, 'shutting-down', cause);
    return { instance, previous };
  }

  /**
   * The instance shuts itself down (`shutdown -h` inside it): it terminates, or stops when its
   * shutdown behaviour is `stop` (`stopping`, then `stopped` after the shutting-down time).
   */
  shutDownFromInside(instance: Instance): StateChange {
    const previous = instance.state;
    if (!isLive(previous)) return { instance, previous };
    if (instance.shutdownBehavior !== 'stop') return this.terminate(instance, 'instance-initiated');
    instance.stateReason = STATE_REASONS['instance-initiated'];
    instance.stateTransitionReason = this.transitionReason('instance-initiated');
    this.transition(instance, 'stopping', 'user');
    instance.next = this.ec2.clock.after(this.ec2.timings.shuttingDownSeconds, () =>
      this.transition(instance, 'stopped', 'user'),
    );
    return { instance, previous };
  }

  /** EC2's `StateTransitionReason` text for a cause, with the time as EC2 writes it. */
  private transitionReason(cause: EndCause): string {
    const when = new Date(this.ec2.clock.now()).toISOString().replace(/\.\d+Z$/, ' GMT');
    switch (cause) {
      case 'user':
        return `User initiated (${when})`;
      case 'interruption':
      case 'insufficient-capacity':
        return `Service initiated (${when})`;
      case 'instance-initiated':
        return `Instance initiated (${when})`;
    }
  }

  private transition(instance: Instance, state: InstanceStateName, cause: EndCause = 'user'): void {
    const region = this.regionOf(instance);
    const wasLive = isLive(instance.state);
    if (instance.next) instance.next.cancelled = true;
    instance.next = undefined;
    region.setInstanceState(instance, state);
    if (wasLive && !isLive(state)) {
      this.countInPool(region, instance, -1);
      if (instance.spotInstanceRequestId) this.ec2.spot.instanceEnded(instance, cause);
      this.ec2.volumes.instanceShuttingDown(region, instance);
    }
    if (state === 'terminated') this.ec2.volumes.instanceTerminated(region, instance);
    this.ec2.events.stateChanged(instance);
    this.scheduleNext(instance);
  }

  private scheduleNext(instance: Instance): void {
    const t = this.ec2.timings;
    const clock = this.ec2.clock;
    switch (instance.state) {
      case 'pending':
        instance.next = clock.after(t.pendingToRunningSeconds, () => this.transition(instance, 'running'));
        return;
      case 'shutting-down':
        instance.next = clock.after(t.shuttingDownSeconds, () => this.transition(instance, 'terminated'));
        return;
      case 'terminated':
        instance.next = clock.after(t.terminatedRetentionSeconds, () => this.vanish(instance));
        return;
      case 'running':
      case 'stopping':
      case 'stopped':
        return;
    }
  }

  private vanish(instance: Instance): void {
    this.regionOf(instance).removeInstance(instance);
  }

  private countInPool(region: RegionState, instance: Instance, delta: number): void {
    region.capacity.instanceCounted(lifecycleOf(instance), instance.zone, instance.instanceType, delta);
  }

  private regionOf(instance: Instance): RegionState {
    const region = this.ec2.region(instance.region);
    if (!region) throw new Error(`instance ${instance.instanceId} belongs to unknown region ${instance.region}`);
    return region;
  }
}

export function lifecycleOf(instance: Instance): Lifecycle {
  return instance.spotInstanceRequestId ? 'spot' : 'on-demand';
}

export function isLive(state: InstanceStateName): boolean {
  return state === 'pending' || state === 'running';
}

/** A distinct private address per instance in 10.0.0.0/8, skipping the network's first addresses. */
function ipFor(seq: number): string {
  const n = seq + 4;
  return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
}
