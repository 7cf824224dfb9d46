import { hexId, uniqueId } from '../ids';
import { BlockDeviceSpec, Instance, InstanceBlockDevice, RegionState, Tags, Volume } from './model';
import type { SimEc2 } from './sim-ec2';

/** EBS volumes made from an instance's block device mappings; they live and die with it. */
export class Volumes {
  constructor(private readonly ec2: SimEc2) {}

  createFor(region: RegionState, instance: Instance, specs: BlockDeviceSpec[], tags?: Tags): InstanceBlockDevice[] {
    const image = region.images.get(instance.imageId);
    const rootDevice = image?.rootDeviceName ?? '/dev/xvda';
    const byDevice = new Map<string, BlockDeviceSpec>([[rootDevice, { deviceName: rootDevice }]]);
    for (const spec of specs) byDevice.set(spec.deviceName, { ...byDevice.get(spec.deviceName), ...spec });
    const now = this.ec2.clock.now();
    const devices: InstanceBlockDevice[] = [];
    for (const spec of byDevice.values()) {
      if (spec.noDevice) continue;
      const isRoot = spec.deviceName === rootDevice;
      const deleteOnTermination = spec.deleteOnTermination ?? true;
      const volume: Volume = {
        seq: region.nextSeq(),
        removed: false,
        volumeId: uniqueId(
          () => hexId('vol'),
          (id) => region.volumes.has(id),
        ),
        zone: instance.zone,
        size: spec.volumeSize ?? (isRoot ? (image?.rootVolumeSize ?? 8) : 8),
        volumeType: spec.volumeType ?? 'gp3',
        iops: spec.iops ?? (spec.volumeType === 'io1' || spec.volumeType === 'io2' ? 100 : 3000),
        snapshotId: spec.snapshotId ?? (isRoot ? 'snap-0123456789abcdef0' : undefined),
        encrypted: spec.encrypted ?? false,
        createTime: now,
        status: 'in-use',
        attachment: {
          instanceId: instance.instanceId,
          device: spec.deviceName,
          status: 'attached',
          attachTime: now,
          deleteOnTermination,
        },
        tags: new Map(tags ?? []),
      };
      region.addVolume(volume);
      devices.push({ deviceName: spec.deviceName, volumeId: volume.volumeId, deleteOnTermination, attachTime: now });
    }
    return devices;
  }

  instanceShuttingDown(region: RegionState, instance: Instance): void {
    for (const device of instance.blockDevices) {
      const volume = region.volumes.get(device.volumeId);
      if (volume?.attachment) volume.attachment.status = 'detaching';
    }
  }

  /** Volumes marked delete-on-termination go with the instance; the others become available. */
  instanceTerminated(region: RegionState, instance: Instance): void {
    for (const device of instance.blockDevices) {
      const volume = region.volumes.get(device.volumeId);
      if (!volume) continue;
      if (device.deleteOnTermination) {
        region.removeVolume(volume);
      } else {
        volume.status = 'available';
        volume.attachment = undefined;
      }
    }
    instance.blockDevices = [];
  }
}
