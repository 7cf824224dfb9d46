import { Ec2Error, invalidValue, missingParameter, notFound } from './errors';
import { INSTANCE_TYPES } from './catalog';
import { BlockDeviceSpec, LaunchSpec, RegionState } from './model';
import { Query } from './query';

const VOLUME_TYPES = ['standard', 'gp2', 'gp3', 'io1', 'io2', 'st1', 'sc1'];
export const INSTANCE_ID = /^i-([0-9a-f]{8}|[0-9a-f]{17})$/;
export const IMAGE_ID = /^ami-([0-9a-f]{8}|[0-9a-f]{17})$/;

/** Reads the launch fields shared by RunInstances (top level) and RequestSpotInstances (`LaunchSpecification.`). */
export function parseLaunchSpec(q: Query, defaultType: string, imagePath = 'ImageId'): LaunchSpec {
  const imageId = q.str('ImageId');
  if (!imageId) throw missingParameter(imagePath);
  return {
    imageId,
    instanceType: q.str('InstanceType') ?? defaultType,
    keyName: q.str('KeyName'),
    zone: q.child('Placement')?.str('AvailabilityZone'),
    blockDevices: q.list('BlockDeviceMapping').map(parseBlockDevice),
    securityGroupIds: q.strList('SecurityGroupId'),
    subnetId: q.str('SubnetId'),
    userData: q.str('UserData'),
  };
}

function parseBlockDevice(m: Query): BlockDeviceSpec {
  const ebs = m.child('Ebs');
  const spec: BlockDeviceSpec = {
    deviceName: m.required('DeviceName'),
    noDevice: m.has('NoDevice') || undefined,
    volumeSize: ebs?.int('VolumeSize', 1, 16384),
    volumeType: ebs?.oneOf('VolumeType', VOLUME_TYPES),
    iops: ebs?.int('Iops', 100, 256000),
    snapshotId: ebs?.str('SnapshotId'),
    encrypted: ebs?.bool('Encrypted'),
    deleteOnTermination: ebs?.bool('DeleteOnTermination'),
  };
  return spec;
}

/** The checks EC2 makes before launching anything; they also run for DryRun. */
export function validateLaunchSpec(region: RegionState, spec: LaunchSpec): void {
  if (!IMAGE_ID.test(spec.imageId)) {
    throw new Ec2Error('InvalidAMIID.Malformed', `Invalid id: "${spec.imageId}" (expecting "ami-...")`);
  }
  const image = region.images.get(spec.imageId);
  if (!image) throw new Ec2Error('InvalidAMIID.NotFound', `The image id '[${spec.imageId}]' does not exist`);
  const type = INSTANCE_TYPES[spec.instanceType];
  if (!type) throw invalidValue('InstanceType', spec.instanceType, 'The instance type does not exist.');
  if (type.arch !== image.architecture) {
    throw new Ec2Error(
      'InvalidParameterValue',
      `The architecture '${type.arch}' of the specified instance type does not match the architecture '${image.architecture}' of the specified AMI.`,
    );
  }
  if (spec.keyName !== undefined && !region.keyPairs.has(spec.keyName)) {
    throw new Ec2Error('InvalidKeyPair.NotFound', `The key pair '${spec.keyName}' does not exist`);
  }
  if (spec.zone !== undefined && !region.zoneByName.has(spec.zone)) {
    throw new Ec2Error('InvalidParameterValue', `Invalid availability zone: [${spec.zone}]`);
  }
}

export function checkInstanceIds(ids: string[]): void {
  for (const id of ids) {
    if (!INSTANCE_ID.test(id)) throw new Ec2Error('InvalidInstanceID.Malformed', `Invalid id: "${id}"`);
  }
}

export function instancesNotFound(ids: string[]): Ec2Error {
  return notFound('InvalidInstanceID.NotFound', 'instance', ids);
}
