import { ScheduledTask } from '../clock';
import { Architecture, ZoneInfo } from './catalog';
import { SeqList, Sequenced } from './paging';

export type InstanceStateName = 'pending' | 'running' | 'shutting-down' | 'terminated' | 'stopping' | 'stopped';
export const INSTANCE_STATES: readonly InstanceStateName[] = [
  'pending',
  'running',
  'shutting-down',
  'terminated',
  'stopping',
  'stopped',
];
export const STATE_CODES: Readonly<Record<InstanceStateName, number>> = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};

export type Tags = Map<string, string>;

export interface BlockDeviceSpec {
  deviceName: string;
  volumeSize?: number;
  volumeType?: string;
  iops?: number;
  snapshotId?: string;
  encrypted?: boolean;
  deleteOnTermination?: boolean;
  noDevice?: boolean;
}

/** What to launch: shared by RunInstances, spot requests and seeding. */
export interface LaunchSpec {
  imageId: string;
  instanceType: string;
  keyName?: string;
  zone?: string;
  blockDevices: BlockDeviceSpec[];
  securityGroupIds: string[];
  subnetId?: string;
  userData?: string;
}

export interface InstanceBlockDevice {
  deviceName: string;
  volumeId: string;
  deleteOnTermination: boolean;
  attachTime: number;
}

export interface Instance extends Sequenced {
  readonly instanceId: string;
  readonly region: string;
  readonly reservationId: string;
  readonly imageId: string;
  readonly instanceType: string;
  readonly keyName?: string;
  readonly zone: string;
  readonly architecture: Architecture;
  readonly launchTime: number;
  /** When the sandbox created it (differs from launchTime for seeded instances); drives the DescribeInstances lag. */
  readonly createdAt: number;
  readonly amiLaunchIndex: number;
  readonly privateIp: string;
  readonly rootDeviceName: string;
  readonly spotInstanceRequestId?: string;
  readonly clientToken?: string;
  readonly subnetId?: string;
  readonly securityGroupIds: string[];
  state: InstanceStateName;
  stateTransitionReason: string;
  stateReason?: { code: string; message: string };
  tags: Tags;
  blockDevices: InstanceBlockDevice[];
  next?: ScheduledTask;
}

export type SpotRequestState = 'open' | 'active' | 'closed' | 'cancelled' | 'failed';
export type SpotRequestType = 'one-time' | 'persistent';

export interface SpotRequest extends Sequenced {
  readonly spotInstanceRequestId: string;
  readonly region: string;
  readonly spotPrice: string;
  readonly type: SpotRequestType;
  readonly launch: LaunchSpec;
  readonly createTime: number;
  /** When the sandbox created it (differs from createTime for seeded requests); drives the describe lag. */
  readonly createdAt: number;
  readonly productDescription: string;
  readonly validFrom?: number;
  readonly validUntil?: number;
  readonly interruptionBehavior: string;
  readonly clientToken?: string;
  /** Seeded requests may be frozen in their state; requests made through the API are always evaluated. */
  readonly autoEvaluate: boolean;
  state: SpotRequestState;
  statusCode: string;
  statusMessage: string;
  statusUpdateTime: number;
  instanceId?: string;
  launchedZone?: string;
  tags: Tags;
  next?: ScheduledTask;
}

export type VolumeStatus = 'creating' | 'available' | 'in-use' | 'deleting';

export interface VolumeAttachment {
  instanceId: string;
  device: string;
  status: 'attaching' | 'attached' | 'detaching' | 'detached';
  attachTime: number;
  deleteOnTermination: boolean;
}

export interface Volume extends Sequenced {
  readonly volumeId: string;
  readonly zone: string;
  readonly size: number;
  readonly volumeType: string;
  readonly iops?: number;
  readonly snapshotId?: string;
  readonly encrypted: boolean;
  readonly createTime: number;
  status: VolumeStatus;
  attachment?: VolumeAttachment;
  tags: Tags;
}

export interface KeyPair {
  readonly keyPairId: string;
  readonly keyName: string;
  readonly keyFingerprint: string;
  readonly keyType: 'rsa' | 'ed25519';
  readonly publicKey: string;
  readonly createTime: number;
  tags: Tags;
}

export interface Image {
  readonly imageId: string;
  readonly name: string;
  readonly architecture: Architecture;
  readonly ownerId: string;
  readonly creationDate: number;
  readonly rootDeviceName: string;
  readonly rootVolumeSize: number;
  tags: Tags;
}

export interface IdempotencyRecord {
  readonly fingerprint: string;
  readonly ids: string[];
  readonly reservationId?: string;
}

/** Everything one region holds, with the indexes that keep lookups independent of fleet size. */
export class RegionState {
  readonly zoneByName: Map<string, ZoneInfo>;
  private seq = 0;

  readonly instances = new Map<string, Instance>();
  readonly instanceOrder = new SeqList<Instance>();
  readonly instancesByKey = new Map<string, SeqList<Instance>>();
  readonly instancesByState = new Map<InstanceStateName, Set<Instance>>();
  /** Instances still present per reservation id. */
  readonly reservations = new Map<string, number>();

  readonly spotRequests = new Map<string, SpotRequest>();
  readonly spotOrder = new SeqList<SpotRequest>();
  /** Live (pending/running) spot instances per `${zone}|${type}` pool, against the pool capacity. */
  readonly spotInPool = new Map<string, number>();

  readonly volumes = new Map<string, Volume>();
  readonly volumeOrder = new SeqList<Volume>();

  readonly keyPairs = new Map<string, KeyPair>();
  readonly images = new Map<string, Image>();

  readonly runTokens = new Map<string, IdempotencyRecord>();
  readonly spotTokens = new Map<string, IdempotencyRecord>();

  zoneCursor = 0;

  constructor(
    readonly name: string,
    readonly zones: ZoneInfo[],
  ) {
    this.zoneByName = new Map(zones.map((z) => [z.name, z]));
    for (const state of INSTANCE_STATES) this.instancesByState.set(state, new Set());
  }

  nextSeq(): number {
    return this.seq++;
  }

  keyPairById(id: string): KeyPair | undefined {
    for (const kp of this.keyPairs.values()) if (kp.keyPairId === id) return kp;
    return undefined;
  }

  addInstance(instance: Instance): void {
    this.instances.set(instance.instanceId, instance);
    this.instanceOrder.push(instance);
    if (instance.keyName !== undefined) {
      let list = this.instancesByKey.get(instance.keyName);
      if (!list) {
        list = new SeqList();
        this.instancesByKey.set(instance.keyName, list);
      }
      list.push(instance);
    }
    this.instancesByState.get(instance.state)?.add(instance);
  }

  setInstanceState(instance: Instance, state: InstanceStateName): void {
    this.instancesByState.get(instance.state)?.delete(instance);
    instance.state = state;
    this.instancesByState.get(state)?.add(instance);
  }

  removeInstance(instance: Instance): void {
    if (instance.removed) return;
    instance.removed = true;
    this.instances.delete(instance.instanceId);
    this.instanceOrder.noteRemoved();
    if (instance.keyName !== undefined) {
      const list = this.instancesByKey.get(instance.keyName);
      list?.noteRemoved();
      if (list && list.size === 0) this.instancesByKey.delete(instance.keyName);
    }
    this.instancesByState.get(instance.state)?.delete(instance);
    const alive = (this.reservations.get(instance.reservationId) ?? 1) - 1;
    if (alive > 0) this.reservations.set(instance.reservationId, alive);
    else this.reservations.delete(instance.reservationId);
  }

  addSpotRequest(request: SpotRequest): void {
    this.spotRequests.set(request.spotInstanceRequestId, request);
    this.spotOrder.push(request);
  }

  removeSpotRequest(request: SpotRequest): void {
    if (request.removed) return;
    request.removed = true;
    this.spotRequests.delete(request.spotInstanceRequestId);
    this.spotOrder.noteRemoved();
  }

  addVolume(volume: Volume): void {
    this.volumes.set(volume.volumeId, volume);
    this.volumeOrder.push(volume);
  }

  removeVolume(volume: Volume): void {
    if (volume.removed) return;
    volume.removed = true;
    this.volumes.delete(volume.volumeId);
    this.volumeOrder.noteRemoved();
  }
}
