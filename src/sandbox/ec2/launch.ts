import { Ec2Error, invalidValue, missingParameter, notFound } from './errors';
import { INSTANCE_TYPES } from './catalog';
import {
  BlockDeviceSpec,
  LaunchSpec,
  MetadataOptions,
  NetworkInterfaceSpec,
  RegionState,
  TemplateData,
  TemplateTagResource,
} from './model';
import { Query } from './query';
import { parseTagSpecifications } from './tags';

const VOLUME_TYPES = ['standard', 'gp2', 'gp3', 'io1', 'io2', 'st1', 'sc1'];
export const INSTANCE_ID = /^i-([0-9a-f]{8}|[0-9a-f]{17})$/;
export const IMAGE_ID = /^ami-([0-9a-f]{8}|[0-9a-f]{17})$/;
const ENABLED = ['enabled', 'disabled'] as const;
const TEMPLATE_TAG_RESOURCES: readonly TemplateTagResource[] = [
  'instance',
  'volume',
  'spot-instances-request',
  'network-interface',
];

/**
 * Reads the launch fields shared by RunInstances (top level), RequestSpotInstances (`LaunchSpecification.`) and
 * launch templates (`LaunchTemplateData.`): every field optional, as in a template.
 */
export function parseLaunchData(q: Query, tagResources = TEMPLATE_TAG_RESOURCES): TemplateData {
  const metadata = q.child('MetadataOptions');
  const profile = q.child('IamInstanceProfile');
  const market = q.child('InstanceMarketOptions');
  const marketType = market?.oneOf('MarketType', ['spot', 'capacity-block']);
  if (marketType === 'capacity-block') {
    throw invalidValue('InstanceMarketOptions.MarketType', marketType, 'Capacity blocks are not simulated.');
  }
  const hopLimit = metadata?.int('HttpPutResponseHopLimit', 1, 64);
  const metadataOptions: Partial<MetadataOptions> | undefined = metadata
    ? dropUndefined({
        httpTokens: metadata.oneOf('HttpTokens', ['optional', 'required'] as const),
        httpPutResponseHopLimit: hopLimit,
        httpEndpoint: metadata.oneOf('HttpEndpoint', ENABLED),
        httpProtocolIpv6: metadata.oneOf('HttpProtocolIpv6', ENABLED),
        instanceMetadataTags: metadata.oneOf('InstanceMetadataTags', ENABLED),
      })
    : undefined;
  const instanceType = q.str('InstanceType');
  if (instanceType !== undefined && !INSTANCE_TYPES[instanceType]) {
    throw invalidValue('InstanceType', instanceType, 'The instance type does not exist.');
  }
  return {
    imageId: q.str('ImageId'),
    instanceType,
    keyName: q.str('KeyName'),
    securityGroupIds: q.strList('SecurityGroupId'),
    securityGroups: q.strList('SecurityGroup'),
    userData: q.str('UserData'),
    blockDevices: q.list('BlockDeviceMapping').map(parseBlockDevice),
    iamInstanceProfile: profile ? dropUndefined({ arn: profile.str('Arn'), name: profile.str('Name') }) : undefined,
    metadataOptions,
    cpuCredits: q.child('CreditSpecification')?.oneOf('CpuCredits', ['standard', 'unlimited']),
    shutdownBehavior: q.oneOf('InstanceInitiatedShutdownBehavior', ['stop', 'terminate'] as const),
    tagSpecifications: parseTagSpecifications(q, tagResources),
    networkInterfaces: q.list('NetworkInterface').map(parseNetworkInterface),
    zone: q.child('Placement')?.str('AvailabilityZone'),
    subnetId: q.str('SubnetId'),
    spot:
      marketType === 'spot' ? { maxPrice: market?.child('SpotOptions')?.price('MaxPrice') } : undefined,
  };
}

/** Template data plus what a request says on top of it: the request wins field by field, lists as a whole. */
export function mergeLaunchData(base: TemplateData, over: TemplateData): TemplateData {
  const tagSpecifications = new Map(base.tagSpecifications);
  for (const [type, tags] of over.tagSpecifications) {
    tagSpecifications.set(type, new Map([...(tagSpecifications.get(type) ?? []), ...tags]));
  }
  const pick = <T>(a: T[], b: T[]) => (b.length > 0 ? b : a);
  return {
    imageId: over.imageId ?? base.imageId,
    instanceType: over.instanceType ?? base.instanceType,
    keyName: over.keyName ?? base.keyName,
    securityGroupIds: pick(base.securityGroupIds, over.securityGroupIds),
    securityGroups: pick(base.securityGroups, over.securityGroups),
    userData: over.userData ?? base.userData,
    blockDevices: pick(base.blockDevices, over.blockDevices),
    iamInstanceProfile: over.iamInstanceProfile ?? base.iamInstanceProfile,
    metadataOptions:
      base.metadataOptions || over.metadataOptions ? { ...base.metadataOptions, ...over.metadataOptions } : undefined,
    cpuCredits: over.cpuCredits ?? base.cpuCredits,
    shutdownBehavior: over.shutdownBehavior ?? base.shutdownBehavior,
    tagSpecifications,
    networkInterfaces: pick(base.networkInterfaces, over.networkInterfaces),
    zone: over.zone ?? base.zone,
    subnetId: over.subnetId ?? base.subnetId,
    spot: over.spot ?? base.spot,
  };
}

/** What to launch from launch data; the image is the one thing EC2 cannot default. */
export function launchSpecFrom(data: TemplateData, defaultType: string, imagePath = 'ImageId'): LaunchSpec {
  if (!data.imageId) throw missingParameter(imagePath);
  const primary = data.networkInterfaces.find((n) => (n.deviceIndex ?? 0) === 0);
  const instanceType = data.instanceType ?? defaultType;
  return {
    imageId: data.imageId,
    instanceType,
    keyName: data.keyName,
    zone: data.zone,
    blockDevices: data.blockDevices,
    securityGroupIds: data.securityGroupIds.length > 0 ? data.securityGroupIds : (primary?.groups ?? []),
    subnetId: data.subnetId ?? primary?.subnetId,
    userData: data.userData,
    metadataOptions: data.metadataOptions,
    shutdownBehavior: data.shutdownBehavior,
    iamInstanceProfile: data.iamInstanceProfile,
    // Credit options only mean something to burstable types; EC2 ignores them for the others in fleets.
    cpuCredits: instanceType.startsWith('t') ? data.cpuCredits : undefined,
  };
}

export function parseLaunchSpec(q: Query, defaultType: string, imagePath = 'ImageId'): LaunchSpec {
  return launchSpecFrom(parseLaunchData(q), defaultType, imagePath);
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

function parseNetworkInterface(n: Query): NetworkInterfaceSpec {
  return {
    deviceIndex: n.int('DeviceIndex', 0, 31),
    subnetId: n.str('SubnetId'),
    groups: n.strList('SecurityGroupId'),
    associatePublicIpAddress: n.bool('AssociatePublicIpAddress'),
    deleteOnTermination: n.bool('DeleteOnTermination'),
    description: n.str('Description'),
  };
}

/**
 * The checks EC2 makes before launching anything; they also run for DryRun. Returns the spec with the zone its
 * subnet lies in, when a subnet is given.
 */
export function validateLaunchSpec(region: RegionState, spec: LaunchSpec): LaunchSpec {
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
  if (spec.subnetId === undefined) return spec;
  const subnet = region.subnets.get(spec.subnetId);
  if (!subnet) throw new Ec2Error('InvalidSubnetID.NotFound', `The subnet ID '${spec.subnetId}' does not exist`);
  if (spec.zone !== undefined && spec.zone !== subnet.zone) {
    throw invalidValue(
      'availabilityZone',
      spec.zone,
      `Subnet '${subnet.subnetId}' is in the availability zone ${subnet.zone}.`,
    );
  }
  return { ...spec, zone: subnet.zone };
}

export function checkInstanceIds(ids: string[]): void {
  for (const id of ids) {
    if (!INSTANCE_ID.test(id)) throw new Ec2Error('InvalidInstanceID.Malformed', `Invalid id: "${id}"`);
  }
}

export function instancesNotFound(ids: string[]): Ec2Error {
  return notFound('InvalidInstanceID.NotFound', 'instance', ids);
}

function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
