import { createHash } from 'node:crypto';
import { hexId, uniqueId } from '../../ids';
import { action, checkDryRun } from '../context';
import { DEFAULT_VPC_ID, SubnetInfo, ZoneInfo } from '../catalog';
import { Ec2Error, invalidCombination, invalidValue, missingParameter, notFound } from '../errors';
import { compileFilters, FilterSpec, parseFilters } from '../filters';
import { checkInstanceIds, IMAGE_ID, instancesNotFound } from '../launch';
import { Image, KeyPair, Tags, Volume } from '../model';
import { pageRequest, takePage } from '../paging';
import { renderImage, renderKeyPair, renderVolume, renderZone } from '../render';
import { mergeTags, parseTags, parseTagSpecifications } from '../tags';
import { iso } from '../xml';

const VOLUME_ID = /^vol-([0-9a-f]{8}|[0-9a-f]{17})$/;

const KEY_PAIR_FILTERS: FilterSpec<KeyPair> = {
  fields: {
    'key-name': (k) => k.keyName,
    'key-pair-id': (k) => k.keyPairId,
    fingerprint: (k) => k.keyFingerprint,
    'key-type': (k) => k.keyType,
  },
  tags: (k) => k.tags,
};

const VOLUME_FILTERS: FilterSpec<Volume> = {
  fields: {
    'volume-id': (v) => v.volumeId,
    status: (v) => v.status,
    size: (v) => v.size,
    'volume-type': (v) => v.volumeType,
    'availability-zone': (v) => v.zone,
    'create-time': (v) => iso(v.createTime),
    'snapshot-id': (v) => v.snapshotId,
    encrypted: (v) => v.encrypted,
    'attachment.instance-id': (v) => v.attachment?.instanceId,
    'attachment.status': (v) => v.attachment?.status,
    'attachment.device': (v) => v.attachment?.device,
    'attachment.delete-on-termination': (v) => v.attachment?.deleteOnTermination,
    'attachment.attach-time': (v) => (v.attachment ? iso(v.attachment.attachTime) : undefined),
  },
  tags: (v) => v.tags,
};

const IMAGE_FILTERS: FilterSpec<Image> = {
  fields: {
    'image-id': (i) => i.imageId,
    name: (i) => i.name,
    state: () => 'available',
    architecture: (i) => i.architecture,
    'owner-id': (i) => i.ownerId,
    'image-type': () => 'machine',
    'root-device-type': () => 'ebs',
    'root-device-name': (i) => i.rootDeviceName,
    'is-public': () => false,
    'virtualization-type': () => 'hvm',
  },
  tags: (i) => i.tags,
};

const ZONE_FILTERS: FilterSpec<ZoneInfo> = {
  fields: {
    'zone-name': (z) => z.name,
    'zone-id': (z) => z.id,
    'region-name': (z) => z.region,
    state: () => 'available',
    'zone-type': () => 'availability-zone',
    'opt-in-status': () => 'opt-in-not-required',
    'group-name': (z) => z.region,
  },
};

const SUBNET_FILTERS: FilterSpec<SubnetInfo & { zoneId?: string }> = {
  fields: {
    'subnet-id': (s) => s.subnetId,
    'availability-zone': (s) => s.zone,
    'availability-zone-id': (s) => s.zoneId,
    'default-for-az': (s) => s.defaultForAz,
    'cidr-block': (s) => s.cidrBlock,
    'vpc-id': () => DEFAULT_VPC_ID,
    state: () => 'available',
  },
};

const PUBLIC_KEY = /^(ssh-rsa|ssh-ed25519) ([A-Za-z0-9+/]+={0,3})(\s.*)?$/s;

export const importKeyPair = action(['KeyName', 'PublicKeyMaterial', 'TagSpecification', 'DryRun'], (ctx) => {
  const { q, region, ec2 } = ctx;
  const keyName = q.required('KeyName');
  const material = q.required('PublicKeyMaterial');
  if (keyName.length > 255 || !/^[\x20-\x7e]+$/.test(keyName)) {
    throw invalidValue('KeyName', keyName, 'Key names are 1-255 printable ASCII characters.');
  }
  const text = Buffer.from(material, 'base64').toString('utf8').trim();
  const match = PUBLIC_KEY.exec(text);
  if (!match) throw new Ec2Error('InvalidKey.Format', 'Key is not in valid OpenSSH public key format');
  const tags = parseTagSpecifications(q, ['key-pair']).get('key-pair') ?? new Map<string, string>();
  if (region.keyPairs.has(keyName)) {
    throw new Ec2Error('InvalidKeyPair.Duplicate', `The keypair '${keyName}' already exists.`);
  }
  checkDryRun(ctx);
  const blob = Buffer.from(match[2], 'base64');
  const keyType = match[1] === 'ssh-rsa' ? 'rsa' : 'ed25519';
  const keyPair: KeyPair = {
    keyPairId: uniqueId(
      () => hexId('key'),
      (id) => region.keyPairById(id) !== undefined,
    ),
    keyName,
    keyFingerprint:
      keyType === 'rsa'
        ? (createHash('md5').update(blob).digest('hex').match(/../g) ?? []).join(':')
        : createHash('sha256').update(blob).digest('base64').replace(/=+$/, ''),
    keyType,
    publicKey: text,
    createTime: ec2.clock.now(),
    tags,
  };
  region.keyPairs.set(keyName, keyPair);
  return {
    keyFingerprint: keyPair.keyFingerprint,
    keyName,
    keyPairId: keyPair.keyPairId,
    tagSet: renderKeyPair(keyPair, false).tagSet,
  };
});

export const describeKeyPairs = action(['KeyName', 'KeyPairId', 'IncludePublicKey', 'DryRun', 'Filter'], (ctx) => {
  const { q, region } = ctx;
  const names = q.strList('KeyName');
  const ids = q.strList('KeyPairId');
  const accept = compileFilters(parseFilters(q), KEY_PAIR_FILTERS);
  const includePublicKey = q.bool('IncludePublicKey') ?? false;
  const missingNames = names.filter((n) => !region.keyPairs.has(n));
  if (missingNames.length > 0) {
    throw new Ec2Error('InvalidKeyPair.NotFound', `The key pair '${missingNames[0]}' does not exist`);
  }
  const missingIds = ids.filter((id) => !region.keyPairById(id));
  if (missingIds.length > 0) {
    throw new Ec2Error('InvalidKeyPair.NotFound', `The key pair ID '${missingIds[0]}' does not exist`);
  }
  checkDryRun(ctx);
  const keyPairs = [...region.keyPairs.values()].filter(
    (k) =>
      (names.length === 0 || names.includes(k.keyName)) && (ids.length === 0 || ids.includes(k.keyPairId)) && accept(k),
  );
  return { keySet: keyPairs.map((k) => renderKeyPair(k, includePublicKey)) };
});

export const deleteKeyPair = action(['KeyName', 'KeyPairId', 'DryRun'], (ctx) => {
  const { q, region } = ctx;
  const keyName = q.str('KeyName');
  const keyPairId = q.str('KeyPairId');
  if (keyName === undefined && keyPairId === undefined) missingParameterPair();
  let keyPair = keyName !== undefined ? region.keyPairs.get(keyName) : undefined;
  if (keyPairId !== undefined) {
    keyPair = region.keyPairById(keyPairId);
    if (!keyPair) throw new Ec2Error('InvalidKeyPair.NotFound', `The key pair ID '${keyPairId}' does not exist`);
  }
  checkDryRun(ctx);
  // Deleting a key pair name that does not exist succeeds, as on EC2.
  if (keyPair) region.keyPairs.delete(keyPair.keyName);
  return { return: true, keyPairId: keyPair?.keyPairId };
});

function missingParameterPair(): never {
  throw new Ec2Error('MissingParameter', 'The request must contain the parameter KeyName or KeyPairId');
}

export const createTags = action(['ResourceId', 'Tag', 'DryRun'], (ctx) => {
  const { q, region } = ctx;
  const resourceIds = q.strList('ResourceId');
  if (resourceIds.length === 0) throw missingParameter('ResourceId');
  const tagItems = q.list('Tag');
  if (tagItems.length === 0) throw missingParameter('Tag');
  const tags = parseTags(tagItems);
  const targets: { id: string; tags: Tags }[] = [];
  const missingInstances: string[] = [];
  for (const id of [...new Set(resourceIds)]) {
    const prefix = id.slice(0, id.indexOf('-') + 1);
    let found: { tags: Tags } | undefined;
    switch (prefix) {
      case 'i-':
        checkInstanceIds([id]);
        found = region.instances.get(id);
        if (!found) missingInstances.push(id);
        break;
      case 'sir-':
        found = region.spotRequests.get(id);
        if (!found) throw notFound('InvalidSpotInstanceRequestID.NotFound', 'spot instance request', [id]);
        break;
      case 'vol-':
        found = region.volumes.get(id);
        if (!found) throw new Ec2Error('InvalidVolume.NotFound', `The volume '${id}' does not exist.`);
        break;
      case 'key-':
        found = region.keyPairById(id);
        if (!found) throw new Ec2Error('InvalidKeyPair.NotFound', `The key pair ID '${id}' does not exist`);
        break;
      case 'ami-':
        found = region.images.get(id);
        if (!found) throw new Ec2Error('InvalidAMIID.NotFound', `The image id '[${id}]' does not exist`);
        break;
      default:
        throw new Ec2Error('InvalidID', `The ID '${id}' is not valid`);
    }
    if (found) targets.push({ id, tags: found.tags });
  }
  if (missingInstances.length > 0) throw instancesNotFound(missingInstances);
  for (const t of targets) {
    const merged = new Map(t.tags);
    mergeTags(merged, tags, t.id);
  }
  checkDryRun(ctx);
  for (const t of targets) mergeTags(t.tags, tags, t.id);
  return { return: true };
});

export const describeVolumes = action(
  ['VolumeId', 'Filter', 'MaxResults', 'NextToken', 'DryRun', 'IncludeManagedResources'],
  (ctx) => {
    const { q, region } = ctx;
    const ids = q.strList('VolumeId');
    for (const id of ids) {
      if (!VOLUME_ID.test(id))
        throw new Ec2Error('InvalidVolumeID.Malformed', `Invalid id: "${id}" (expecting "vol-...")`);
    }
    const accept = compileFilters(parseFilters(q), VOLUME_FILTERS);
    const page = pageRequest(q, 'DescribeVolumes', { min: 5, max: 500 }, { param: 'VolumeId', xmlName: 'volumeSet' });
    let source: Iterable<Volume> = region.volumeOrder.from(page.afterSeq);
    if (ids.length > 0) {
      const missing = ids.filter((id) => !region.volumes.has(id));
      if (missing.length > 0)
        throw new Ec2Error('InvalidVolume.NotFound', `The volume '${missing[0]}' does not exist.`);
      source = [...new Set(ids)].map((id) => region.volumes.get(id) as Volume).sort((a, b) => a.seq - b.seq);
    }
    checkDryRun(ctx);
    const result = takePage(source, accept, page.limit, 'DescribeVolumes');
    return { volumeSet: result.items.map(renderVolume), nextToken: result.nextToken };
  },
);

export const describeImages = action(
  [
    'ExecutableBy', 'ImageId', 'Owner', 'IncludeDeprecated', 'IncludeDisabled', 'MaxResults', 'NextToken', 'DryRun',
    'Filter',
  ], // prettier-ignore
  (ctx) => {
    const { q, region, ec2 } = ctx;
    const ids = q.strList('ImageId');
    for (const id of ids) {
      if (!IMAGE_ID.test(id)) throw new Ec2Error('InvalidAMIID.Malformed', `Invalid id: "${id}" (expecting "ami-...")`);
    }
    const missing = ids.filter((id) => !region.images.has(id));
    if (missing.length > 0)
      throw new Ec2Error('InvalidAMIID.NotFound', `The image id '[${missing.join(', ')}]' does not exist`);
    const owners = q.strList('Owner');
    const accept = compileFilters(parseFilters(q), IMAGE_FILTERS);
    if (q.has('MaxResults') && ids.length > 0) {
      throw invalidCombination('The parameter imagesSet cannot be used with the parameter maxResults');
    }
    checkDryRun(ctx);
    const ownerOk = (img: Image) =>
      owners.length === 0 || owners.some((o) => o === img.ownerId || (o === 'self' && img.ownerId === ec2.accountId));
    const images = [...region.images.values()].filter(
      (img) => (ids.length === 0 || ids.includes(img.imageId)) && ownerOk(img) && accept(img),
    );
    return { imagesSet: images.map(renderImage) };
  },
);

export const describeAvailabilityZones = action(
  ['ZoneName', 'ZoneId', 'AllAvailabilityZones', 'DryRun', 'Filter'],
  (ctx) => {
    const { q, region } = ctx;
    const names = q.strList('ZoneName');
    const ids = q.strList('ZoneId');
    for (const name of names) {
      if (!region.zoneByName.has(name)) {
        throw new Ec2Error('InvalidParameterValue', `The zone '${name}' does not exist in region ${region.name}`);
      }
    }
    for (const id of ids) {
      if (!region.zones.some((z) => z.id === id)) {
        throw new Ec2Error('InvalidParameterValue', `The zone ID '${id}' does not exist in region ${region.name}`);
      }
    }
    const accept = compileFilters(parseFilters(q), ZONE_FILTERS);
    checkDryRun(ctx);
    const zones = region.zones.filter(
      (z) => (names.length === 0 || names.includes(z.name)) && (ids.length === 0 || ids.includes(z.id)) && accept(z),
    );
    return { availabilityZoneInfo: zones.map(renderZone) };
  },
);

export const describeSubnets = action(['SubnetId', 'Filter', 'MaxResults', 'NextToken', 'DryRun'], (ctx) => {
  const { q, region, ec2 } = ctx;
  const ids = q.strList('SubnetId');
  const missing = ids.find((id) => !region.subnets.has(id));
  if (missing !== undefined) throw new Ec2Error('InvalidSubnetID.NotFound', `The subnet ID '${missing}' does not exist`);
  const accept = compileFilters(parseFilters(q), SUBNET_FILTERS);
  checkDryRun(ctx);
  const subnets = [...region.subnets.values()]
    .map((s) => ({ ...s, zoneId: region.zoneByName.get(s.zone)?.id }))
    .filter((s) => (ids.length === 0 || ids.includes(s.subnetId)) && accept(s));
  return {
    subnetSet: subnets.map((s) => ({
      subnetId: s.subnetId,
      subnetArn: `arn:aws:ec2:${region.name}:${ec2.accountId}:subnet/${s.subnetId}`,
      state: 'available',
      vpcId: DEFAULT_VPC_ID,
      cidrBlock: s.cidrBlock,
      availableIpAddressCount: 4091,
      availabilityZone: s.zone,
      availabilityZoneId: s.zoneId,
      defaultForAz: s.defaultForAz,
      mapPublicIpOnLaunch: s.defaultForAz,
      ownerId: ec2.accountId,
    })),
  };
});
