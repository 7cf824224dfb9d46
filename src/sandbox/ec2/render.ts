import { Image, Instance, KeyPair, LaunchSpec, SpotRequest, STATE_CODES, Tags, Volume } from './model';
import { iso, XmlObject, XmlValue } from './xml';
import { ZoneInfo } from './catalog';

export function renderTags(tags: Tags): XmlValue {
  if (tags.size === 0) return undefined;
  return [...tags].map(([key, value]) => ({ key, value }));
}

export function renderInstance(i: Instance): XmlObject {
  return {
    instanceId: i.instanceId,
    imageId: i.imageId,
    instanceState: { code: STATE_CODES[i.state], name: i.state },
    privateDnsName: i.state === 'terminated' ? '' : `ip-${i.privateIp.replace(/\./g, '-')}.ec2.internal`,
    dnsName: '',
    reason: i.stateTransitionReason,
    keyName: i.keyName,
    amiLaunchIndex: i.amiLaunchIndex,
    productCodes: [],
    instanceType: i.instanceType,
    launchTime: iso(i.launchTime),
    placement: { availabilityZone: i.zone, groupName: '', tenancy: 'default' },
    monitoring: { state: 'disabled' },
    subnetId: i.state === 'terminated' ? undefined : i.subnetId,
    privateIpAddress: i.state === 'terminated' ? undefined : i.privateIp,
    groupSet: i.securityGroupIds.map((groupId) => ({ groupId, groupName: groupId })),
    stateReason: i.stateReason,
    iamInstanceProfile: i.iamInstanceProfile
      ? { arn: i.iamInstanceProfile.arn, id: `AIPA${i.instanceId.slice(2, 19).toUpperCase()}` }
      : undefined,
    architecture: i.architecture,
    rootDeviceType: 'ebs',
    rootDeviceName: i.rootDeviceName,
    blockDeviceMapping: i.blockDevices.map((d) => ({
      deviceName: d.deviceName,
      ebs: {
        volumeId: d.volumeId,
        status: i.state === 'shutting-down' ? 'detaching' : 'attached',
        attachTime: iso(d.attachTime),
        deleteOnTermination: d.deleteOnTermination,
      },
    })),
    metadataOptions: {
      state: i.state === 'pending' ? 'pending' : 'applied',
      httpTokens: i.metadataOptions.httpTokens,
      httpPutResponseHopLimit: i.metadataOptions.httpPutResponseHopLimit,
      httpEndpoint: i.metadataOptions.httpEndpoint,
      httpProtocolIpv6: i.metadataOptions.httpProtocolIpv6,
      instanceMetadataTags: i.metadataOptions.instanceMetadataTags,
    },
    instanceLifecycle: i.spotInstanceRequestId ? 'spot' : undefined,
    spotInstanceRequestId: i.spotInstanceRequestId,
    clientToken: i.clientToken ?? '',
    tagSet: renderTags(i.tags),
    virtualizationType: 'hvm',
    hypervisor: 'xen',
    ebsOptimized: false,
    enaSupport: true,
    platformDetails: 'Linux/UNIX',
    usageOperation: 'RunInstances',
  };
}

/** Groups a page of instances into reservations, keeping the page order. */
export function renderReservations(instances: Instance[], ownerId: string): XmlObject[] {
  const byReservation = new Map<string, Instance[]>();
  for (const i of instances) {
    const list = byReservation.get(i.reservationId);
    if (list) list.push(i);
    else byReservation.set(i.reservationId, [i]);
  }
  return [...byReservation].map(([reservationId, list]) => ({
    reservationId,
    ownerId,
    groupSet: [],
    instancesSet: list.map(renderInstance),
  }));
}

function renderLaunchSpec(l: LaunchSpec): XmlObject {
  return {
    imageId: l.imageId,
    keyName: l.keyName,
    groupSet: l.securityGroupIds.map((groupId) => ({ groupId, groupName: groupId })),
    instanceType: l.instanceType,
    placement: l.zone ? { availabilityZone: l.zone } : undefined,
    subnetId: l.subnetId,
    blockDeviceMapping:
      l.blockDevices.length === 0
        ? undefined
        : l.blockDevices.map((d) => ({
            deviceName: d.deviceName,
            noDevice: d.noDevice ? '' : undefined,
            ebs: d.noDevice
              ? undefined
              : {
                  volumeSize: d.volumeSize,
                  volumeType: d.volumeType,
                  deleteOnTermination: d.deleteOnTermination,
                  snapshotId: d.snapshotId,
                  encrypted: d.encrypted,
                  iops: d.iops,
                },
          })),
    monitoring: { enabled: false },
  };
}

export function renderSpotRequest(r: SpotRequest): XmlObject {
  return {
    spotInstanceRequestId: r.spotInstanceRequestId,
    spotPrice: r.spotPrice,
    type: r.type,
    state: r.state,
    status: { code: r.statusCode, updateTime: iso(r.statusUpdateTime), message: r.statusMessage },
    launchSpecification: renderLaunchSpec(r.launch),
    instanceId: r.instanceId,
    createTime: iso(r.createTime),
    productDescription: r.productDescription,
    launchedAvailabilityZone: r.launchedZone,
    validFrom: r.validFrom === undefined ? undefined : iso(r.validFrom),
    validUntil: r.validUntil === undefined ? undefined : iso(r.validUntil),
    instanceInterruptionBehavior: r.interruptionBehavior,
    tagSet: renderTags(r.tags),
  };
}

export function renderVolume(v: Volume): XmlObject {
  return {
    volumeId: v.volumeId,
    size: v.size,
    snapshotId: v.snapshotId ?? '',
    availabilityZone: v.zone,
    status: v.status,
    createTime: iso(v.createTime),
    attachmentSet: v.attachment
      ? [
          {
            volumeId: v.volumeId,
            instanceId: v.attachment.instanceId,
            device: v.attachment.device,
            status: v.attachment.status,
            attachTime: iso(v.attachment.attachTime),
            deleteOnTermination: v.attachment.deleteOnTermination,
          },
        ]
      : [],
    volumeType: v.volumeType,
    iops: v.iops,
    encrypted: v.encrypted,
    multiAttachEnabled: false,
    tagSet: renderTags(v.tags),
  };
}

export function renderKeyPair(k: KeyPair, includePublicKey: boolean): XmlObject {
  return {
    keyPairId: k.keyPairId,
    keyName: k.keyName,
    keyFingerprint: k.keyFingerprint,
    keyType: k.keyType,
    publicKey: includePublicKey ? k.publicKey : undefined,
    createTime: iso(k.createTime),
    tagSet: renderTags(k.tags),
  };
}

export function renderImage(img: Image): XmlObject {
  return {
    imageId: img.imageId,
    imageLocation: `${img.ownerId}/${img.name}`,
    imageState: 'available',
    imageOwnerId: img.ownerId,
    creationDate: iso(img.creationDate),
    isPublic: false,
    architecture: img.architecture,
    imageType: 'machine',
    name: img.name,
    rootDeviceType: 'ebs',
    rootDeviceName: img.rootDeviceName,
    blockDeviceMapping: [
      {
        deviceName: img.rootDeviceName,
        ebs: {
          snapshotId: 'snap-0123456789abcdef0',
          volumeSize: img.rootVolumeSize,
          deleteOnTermination: true,
          volumeType: 'gp3',
          encrypted: false,
        },
      },
    ],
    virtualizationType: 'hvm',
    hypervisor: 'xen',
    enaSupport: true,
    platformDetails: 'Linux/UNIX',
    usageOperation: 'RunInstances',
    tagSet: renderTags(img.tags),
  };
}

export function renderZone(z: ZoneInfo): XmlObject {
  return {
    zoneName: z.name,
    zoneState: 'available',
    regionName: z.region,
    zoneId: z.id,
    zoneType: 'availability-zone',
    optInStatus: 'opt-in-not-required',
    groupName: z.region,
    networkBorderGroup: z.region,
    messageSet: [],
  };
}
