import { ScheduledTask } from '../clock';
import { RegionCapacity } from './capacity';
import { Architecture, defaultSubnetsFor, SubnetInfo, ZoneInfo } from './catalog';
import { SeqList, Sequenced } from './paging';
import { XmlObject } from './xml';

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

export type ShutdownBehavior = 'stop' | 'terminate';

export interface MetadataOptions {
  httpTokens: 'optional' | 'required';
  httpPutResponseHopLimit: number;
  httpEndpoint: 'enabled' | 'disabled';
  httpProtocolIpv6: 'enabled' | 'disabled';
  instanceMetadataTags: 'enabled' | 'disabled';
}

export interface IamInstanceProfileSpec {
  arn?: string;
  name?: string;
}

/** What to launch: shared by RunInstances, spot requests, launch templates, fleets and seeding. */
export interface LaunchSpec {
  imageId: string;
  instanceType: string;
  keyName?: string;
  zone?: string;
  blockDevices: BlockDeviceSpec[];
  securityGroupIds: string[];
  subnetId?: string;
  userData?: string;
  /** Unset: EC2's defaults (see `metadataDefaults`). */
  metadataOptions?: Partial<MetadataOptions>;
  /** EC2's default is `stop`. */
  shutdownBehavior?: ShutdownBehavior;
  iamInstanceProfile?: IamInstanceProfileSpec;
  cpuCredits?: string;
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
  readonly userData?: string;
  readonly metadataOptions: MetadataOptions;
  readonly shutdownBehavior: ShutdownBehavior;
  readonly iamInstanceProfile?: IamInstanceProfileSpec;
  readonly cpuCredits?: string;
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

export type TemplateTagResource = 'instance' | 'volume' | 'spot-instances-request' | 'network-interface';

export interface NetworkInterfaceSpec {
  deviceIndex?: number;
  subnetId?: string;
  groups: string[];
  associatePublicIpAddress?: boolean;
  deleteOnTermination?: boolean;
  description?: string;
}

/** A launch template version's data, as given (every field optional, as on EC2). */
export interface TemplateData {
  imageId?: string;
  instanceType?: string;
  keyName?: string;
  securityGroupIds: string[];
  securityGroups: string[];
  userData?: string;
  blockDevices: BlockDeviceSpec[];
  iamInstanceProfile?: IamInstanceProfileSpec;
  metadataOptions?: Partial<MetadataOptions>;
  cpuCredits?: string;
  shutdownBehavior?: ShutdownBehavior;
  tagSpecifications: Map<TemplateTagResource, Tags>;
  networkInterfaces: NetworkInterfaceSpec[];
  zone?: string;
  /** RunInstances only: templates give subnets through their network interfaces. */
  subnetId?: string;
  /** `InstanceMarketOptions` with market type spot: RunInstances from the template launches spot. */
  spot?: { maxPrice?: string };
}

export interface LaunchTemplateVersion {
  readonly versionNumber: number;
  readonly description?: string;
  readonly createTime: number;
  readonly data: TemplateData;
}

export interface LaunchTemplate extends Sequenced {
  readonly launchTemplateId: string;
  readonly launchTemplateName: string;
  readonly createTime: number;
  defaultVersion: number;
  latestVersion: number;
  readonly versions: Map<number, LaunchTemplateVersion>;
  tags: Tags;
}

/** A CreateFleet answer kept for its ClientToken. */
export interface FleetRecord {
  readonly fingerprint: string;
  readonly response: XmlObject;
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
  /** Pool capacities, quotas and the usage they are checked against. */
  readonly capacity = new RegionCapacity();

  readonly volumes = new Map<string, Volume>();
  readonly volumeOrder = new SeqList<Volume>();

  readonly keyPairs = new Map<string, KeyPair>();
  readonly images = new Map<string, Image>();
  readonly subnets: Map<string, SubnetInfo>;

  readonly launchTemplates = new Map<string, LaunchTemplate>();
  readonly launchTemplatesByName = new Map<string, LaunchTemplate>();

  /** EC2 requests this region answered since the last reset, by action (refusals and errors too). */
  readonly calls = new Map<string, number>();

  readonly runTokens = new Map<string, IdempotencyRecord>();
  readonly spotTokens = new Map<string, IdempotencyRecord>();
  readonly templateTokens = new Map<string, IdempotencyRecord>();
  readonly fleetTokens = new Map<string, FleetRecord>();

  zoneCursor = 0;

  constructor(
    readonly name: string,
    readonly zones: ZoneInfo[],
  ) {
    this.zoneByName = new Map(zones.map((z) => [z.name, z]));
    this.subnets = new Map(defaultSubnetsFor(zones).map((s) => [s.subnetId, s]));
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
