import { Instance as Ec2Instance, SpotInstanceRequest } from '@aws-sdk/client-ec2';
import { ownedWorkerType } from '../aws/naming';
import { NewInstance } from '../state/instance.repository';
import { NewSpotRequest } from '../state/spot-request.repository';

/** A described EC2 instance as a state row, when it is ours and live; launch time orders it before any event. */
export function toInstanceRow(region: string, i: Ec2Instance, managerId: string): NewInstance | null {
  const workerType = ownedWorkerType(i.KeyName, managerId);
  const state = i.State?.Name;
  if (!workerType || (state !== 'pending' && state !== 'running') || !i.InstanceId) return null;
  const launched = i.LaunchTime ?? new Date();
  return {
    region,
    id: i.InstanceId,
    workerType,
    az: i.Placement?.AvailabilityZone ?? '',
    instanceType: i.InstanceType ?? '',
    state,
    spotRequestId: i.SpotInstanceRequestId ?? null,
    imageId: i.ImageId ?? '',
    launched,
    lastEvent: launched,
  };
}

/** A described EC2 spot request as a state row, when it is ours. */
export function toSpotRequestRow(region: string, r: SpotInstanceRequest, managerId: string): NewSpotRequest | null {
  const workerType = ownedWorkerType(r.LaunchSpecification?.KeyName, managerId);
  if (!workerType || !r.SpotInstanceRequestId) return null;
  return {
    region,
    id: r.SpotInstanceRequestId,
    workerType,
    az: r.LaunchSpecification?.Placement?.AvailabilityZone ?? '',
    instanceType: r.LaunchSpecification?.InstanceType ?? '',
    state: r.State ?? 'open',
    status: r.Status?.Code ?? '',
    imageId: r.LaunchSpecification?.ImageId ?? '',
    created: r.CreateTime ?? new Date(),
  };
}
