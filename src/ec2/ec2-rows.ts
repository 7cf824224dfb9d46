import type { Instance as Ec2Instance, SpotInstanceRequest } from '@aws-sdk/client-ec2';
import type { NewInstance } from '../state/instance.repository';
import type { NewSpotRequest } from '../state/spot-request.repository';
import { hasResourceTags, ownedWorkerType } from './naming';

/** An instance carrying this tag with the value `true` is never killed by housekeeping (SPEC §11). */
export const DO_NOT_DISRUPT_TAG = 'ec2-manager:do-not-disrupt';

/** An instance of ours as EC2 describes it: what the gateway hands out instead of EC2's shape. */
export interface OurInstance {
  region: string;
  id: string;
  workerType: string;
  /** EC2's state name: `pending`, `running`, `stopping`, `stopped`, `shutting-down`, `terminated`. */
  state: string;
  launched: Date;
  imageId: string;
  instanceType: string;
  az: string;
  spotRequestId: string | null;
  /** Why it last changed state, as EC2 says (`Server.SpotInstanceTermination`, ...); null when EC2 gives none. */
  stateReason: { code: string; message: string } | null;
  /** Whether it carries the tags of SPEC §2. */
  tagged: boolean;
  /** Tagged `ec2-manager:do-not-disrupt=true`: housekeeping never kills it (SPEC §11). */
  doNotDisrupt: boolean;
  /** Its EBS volumes (tagged with it). */
  volumeIds: string[];
  /** Its state row when it is live (`pending` or `running`); null otherwise. */
  row: NewInstance | null;
}

/** A spot request of ours as EC2 describes it. */
export interface OurSpotRequest {
  region: string;
  id: string;
  workerType: string;
  /** `open`, `active`, `closed`, `cancelled`, `failed`. */
  state: string;
  /** EC2's status code, e.g. `pending-evaluation`, `price-too-low`. */
  status: string;
  /** The instance that fulfilled it, if any. */
  instanceId: string | null;
  tagged: boolean;
  /** Its state row (meaningful while it is open). */
  row: NewSpotRequest;
}

/**
 * An EC2 instance as ours, or null when its key name is not ours (SPEC §2). The only way a described
 * instance reaches the rest of the service. Launch time orders its row before any event.
 */
export function ourInstance(region: string, i: Ec2Instance, managerId: string): OurInstance | null {
  const workerType = ownedWorkerType(i.KeyName, managerId);
  if (!workerType || !i.InstanceId) return null;
  const state = i.State?.Name ?? 'unknown';
  const launched = i.LaunchTime ?? new Date();
  const base = {
    region,
    id: i.InstanceId,
    workerType,
    az: i.Placement?.AvailabilityZone ?? '',
    instanceType: i.InstanceType ?? '',
    spotRequestId: i.SpotInstanceRequestId ?? null,
    imageId: i.ImageId ?? '',
    launched,
  };
  return {
    ...base,
    state,
    stateReason: i.StateReason?.Code ? { code: i.StateReason.Code, message: i.StateReason.Message ?? '' } : null,
    tagged: hasResourceTags(i.Tags, managerId, workerType),
    doNotDisrupt: (i.Tags ?? []).some((t) => t.Key === DO_NOT_DISRUPT_TAG && t.Value === 'true'),
    volumeIds: (i.BlockDeviceMappings ?? []).flatMap((b) => (b.Ebs?.VolumeId ? [b.Ebs.VolumeId] : [])),
    row: state === 'pending' || state === 'running' ? { ...base, state, lastEvent: launched } : null,
  };
}

/** An EC2 spot request as ours, or null when its launch key name is not ours (SPEC §2). */
export function ourSpotRequest(region: string, r: SpotInstanceRequest, managerId: string): OurSpotRequest | null {
  const spec = r.LaunchSpecification;
  const workerType = ownedWorkerType(spec?.KeyName, managerId);
  if (!workerType || !r.SpotInstanceRequestId) return null;
  const state = r.State ?? 'open';
  const status = r.Status?.Code ?? '';
  return {
    region,
    id: r.SpotInstanceRequestId,
    workerType,
    state,
    status,
    instanceId: r.InstanceId ?? null,
    tagged: hasResourceTags(r.Tags, managerId, workerType),
    row: {
      region,
      id: r.SpotInstanceRequestId,
      workerType,
      az: spec?.Placement?.AvailabilityZone ?? r.LaunchedAvailabilityZone ?? '',
      instanceType: spec?.InstanceType ?? '',
      state,
      status,
      imageId: spec?.ImageId ?? '',
      created: r.CreateTime ?? new Date(),
    },
  };
}
