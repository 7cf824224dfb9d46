import { action, ActionContext, checkDryRun, replayOf } from '../context';
import { DEFAULT_INSTANCE_TYPE } from '../catalog';
import { Ec2Error, invalidCombination, invalidValue, missingParameter } from '../errors';
import { compileFilters, exactValues, FilterSpec, parseFilters } from '../filters';
import { insufficientCapacity } from '../capacity';
import {
  checkInstanceIds,
  instancesNotFound,
  launchSpecFrom,
  mergeLaunchData,
  parseLaunchData,
  validateLaunchSpec,
} from '../launch';
import { Instance, LaunchSpec, RegionState, STATE_CODES, TemplateData } from '../model';
import { pageRequest, takePage } from '../paging';
import { renderInstance, renderReservations } from '../render';
import { SpotRequestInput } from '../spot';
import { findTemplate, findVersion } from '../templates';
import { iso, XmlObject } from '../xml';

const RUN_PARAMS = [
  'MaxCount', 'MinCount', 'BlockDeviceMapping', 'ImageId', 'InstanceType', 'Ipv6AddressCount', 'Ipv6Address',
  'KernelId', 'KeyName', 'Monitoring', 'Placement', 'RamdiskId', 'SecurityGroupId', 'SecurityGroup', 'SubnetId',
  'UserData', 'ElasticGpuSpecification', 'ElasticInferenceAccelerator', 'TagSpecification', 'LaunchTemplate',
  'InstanceMarketOptions', 'CreditSpecification', 'CpuOptions', 'CapacityReservationSpecification',
  'HibernationOptions', 'LicenseSpecification', 'MetadataOptions', 'EnclaveOptions', 'PrivateDnsNameOptions',
  'MaintenanceOptions', 'DisableApiStop', 'EnablePrimaryIpv6', 'NetworkPerformanceOptions', 'Operator',
  'SecondaryInterface', 'DryRun', 'DisableApiTermination', 'InstanceInitiatedShutdownBehavior', 'PrivateIpAddress',
  'ClientToken', 'AdditionalInfo', 'NetworkInterface', 'IamInstanceProfile', 'EbsOptimized',
]; // prettier-ignore

export const INSTANCE_FILTERS: FilterSpec<Instance> = {
  fields: {
    'instance-id': (i) => i.instanceId,
    'instance-state-name': (i) => i.state,
    'instance-state-code': (i) => STATE_CODES[i.state],
    'key-name': (i) => i.keyName,
    'instance-type': (i) => i.instanceType,
    'image-id': (i) => i.imageId,
    'availability-zone': (i) => i.zone,
    'instance-lifecycle': (i) => (i.spotInstanceRequestId ? 'spot' : undefined),
    'spot-instance-request-id': (i) => i.spotInstanceRequestId,
    'reservation-id': (i) => i.reservationId,
    'launch-time': (i) => iso(i.launchTime),
    'private-ip-address': (i) => i.privateIp,
    architecture: (i) => i.architecture,
    'client-token': (i) => i.clientToken,
    'subnet-id': (i) => i.subnetId,
    'root-device-type': () => 'ebs',
    'root-device-name': (i) => i.rootDeviceName,
    'state-reason-code': (i) => i.stateReason?.code,
    'block-device-mapping.volume-id': (i) => i.blockDevices.map((d) => d.volumeId),
    'block-device-mapping.device-name': (i) => i.blockDevices.map((d) => d.deviceName),
    'instance.group-id': (i) => i.securityGroupIds,
  },
  tags: (i) => i.tags,
};

function sortBySeq(list: Instance[]): Instance[] {
  return list.sort((a, b) => a.seq - b.seq);
}

export const runInstances = action(RUN_PARAMS, (ctx) => {
  const { q, region, ec2 } = ctx;
  const given = parseLaunchData(q);
  const templateQuery = q.child('LaunchTemplate');
  const template = templateQuery
    ? findTemplate(region, { id: templateQuery.str('LaunchTemplateId'), name: templateQuery.str('LaunchTemplateName') }, 'LaunchTemplate.')
    : undefined;
  const version = template ? findVersion(template, templateQuery?.str('Version')) : undefined;
  const data = version ? mergeLaunchData(version.data, given) : given;
  const spec = launchSpecFrom(data, DEFAULT_INSTANCE_TYPE);
  const maxCount = q.int('MaxCount', 1, 1000);
  const minCount = q.int('MinCount', 1, 1000);
  if (maxCount === undefined) throw missingParameter('MaxCount');
  if (minCount === undefined) throw missingParameter('MinCount');
  if (minCount > maxCount) {
    throw invalidValue('MinCount', String(minCount), 'MinCount must be less than or equal to MaxCount.');
  }
  const clientToken = q.str('ClientToken');
  if (clientToken !== undefined && clientToken.length > 64) {
    throw invalidValue('ClientToken', clientToken, 'At most 64 characters.');
  }
  const market = parseMarketOptions(ctx) ?? templateMarket(data, clientToken);
  if (!market && data.tagSpecifications.has('spot-instances-request')) {
    throw invalidValue(
      'TagSpecification.ResourceType',
      'spot-instances-request',
      'Spot request tags need InstanceMarketOptions with MarketType spot.',
    );
  }
  const instanceTags = new Map(data.tagSpecifications.get('instance'));
  if (template && version) {
    instanceTags.set('aws:ec2launchtemplate:id', template.launchTemplateId);
    instanceTags.set('aws:ec2launchtemplate:version', String(version.versionNumber));
  }

  const previous = replayOf(region.runTokens, clientToken, ctx);
  if (previous) {
    const instances = previous.ids.flatMap((id) => region.instances.get(id) ?? []);
    return reservationBody(previous.reservationId ?? '', instances, ec2.accountId);
  }

  const launch = validateLaunchSpec(region, spec);
  const lifecycle = market ? 'spot' : 'on-demand';
  const quotaRoom = region.capacity.quotaRoom(lifecycle, launch.instanceType);
  if (quotaRoom < minCount) throw region.capacity.quotaError(lifecycle, launch.instanceType, minCount);
  let zone: string;
  if (market) {
    const bid = market.spotPrice !== undefined ? Number(market.spotPrice) : ec2.spot.bid({ launch }, region.name);
    const placement = ec2.spot.place(region, launch, bid, minCount);
    if (!placement.ok) {
      if (placement.code === 'price-too-low') throw new Ec2Error('SpotMaxPriceTooLow', placement.message);
      throw new Ec2Error('InsufficientInstanceCapacity', placement.message, 500);
    }
    zone = placement.zone;
  } else {
    zone = onDemandZone(region, launch, minCount);
  }
  const count = Math.min(maxCount, quotaRoom, region.capacity.poolRoom(lifecycle, zone, launch.instanceType));
  checkDryRun(ctx);

  const requests = market
    ? ec2.spot.create(
        region,
        {
          ...market,
          launch: { ...launch, zone },
          tags: data.tagSpecifications.get('spot-instances-request') ?? new Map<string, string>(),
        },
        count,
        { state: 'active', statusCode: 'fulfilled', autoEvaluate: true },
      )
    : [];
  const launched = ec2.instances.launch(region, launch, {
    count,
    zone,
    tags: instanceTags,
    volumeTags: data.tagSpecifications.get('volume'),
    spotRequestIds: market ? requests.map((r) => r.spotInstanceRequestId) : undefined,
    clientToken,
  });
  requests.forEach((request, n) => {
    request.instanceId = launched[n].instanceId;
    request.launchedZone = zone;
  });
  const reservationId = launched[0].reservationId;
  if (clientToken !== undefined) {
    region.runTokens.set(clientToken, {
      fingerprint: ctx.fingerprint,
      ids: launched.map((i) => i.instanceId),
      reservationId,
    });
  }
  return reservationBody(reservationId, launched, ec2.accountId);
});

/** The asked zone, or the next zone in turn with room for `minCount`: EC2's answer when none has any. */
function onDemandZone(region: RegionState, launch: LaunchSpec, minCount: number): string {
  const capacity = region.capacity;
  const fits = (zone: string) => capacity.poolRoom('on-demand', zone, launch.instanceType) >= minCount;
  if (launch.zone !== undefined) {
    if (fits(launch.zone)) return launch.zone;
    const others = region.zones.map((z) => z.name).filter((z) => z !== launch.zone && fits(z));
    throw insufficientCapacity(launch.instanceType, launch.zone, others);
  }
  for (let tried = 0; tried < region.zones.length; tried++) {
    const zone = region.zones[region.zoneCursor++ % region.zones.length].name;
    if (fits(zone)) return zone;
  }
  throw insufficientCapacity(launch.instanceType, undefined, []);
}

/** A template's `InstanceMarketOptions` make RunInstances launch spot, as the request's own would. */
function templateMarket(data: TemplateData, clientToken: string | undefined): MarketOptions | undefined {
  if (!data.spot) return undefined;
  return { spotPrice: data.spot.maxPrice, type: 'one-time', interruptionBehavior: 'terminate', clientToken };
}

function reservationBody(reservationId: string, instances: Instance[], ownerId: string): XmlObject {
  return { reservationId, ownerId, groupSet: [], instancesSet: instances.map(renderInstance) };
}

type MarketOptions = Omit<SpotRequestInput, 'launch' | 'tags'>;

function parseMarketOptions(ctx: ActionContext): MarketOptions | undefined {
  const options = ctx.q.child('InstanceMarketOptions');
  if (!options) return undefined;
  const marketType = options.oneOf('MarketType', ['spot', 'capacity-block']);
  if (marketType === 'capacity-block') {
    throw invalidValue('InstanceMarketOptions.MarketType', marketType, 'Capacity blocks are not simulated.');
  }
  const spot = options.child('SpotOptions');
  const type = spot?.oneOf('SpotInstanceType', ['one-time', 'persistent']) ?? 'one-time';
  const behavior = spot?.oneOf('InstanceInterruptionBehavior', ['hibernate', 'stop', 'terminate']) ?? 'terminate';
  if ((type === 'persistent') !== (behavior !== 'terminate')) {
    throw invalidCombination(
      type === 'persistent'
        ? 'A persistent Spot Instance request requires an interruption behavior of stop or hibernate.'
        : `The interruption behavior '${behavior}' requires a persistent Spot Instance request.`,
    );
  }
  const validUntil = spot?.date('ValidUntil');
  return {
    spotPrice: spot?.price('MaxPrice'),
    type,
    interruptionBehavior: behavior,
    validUntil,
    clientToken: ctx.q.str('ClientToken'),
  };
}

export const describeInstances = action(
  ['InstanceId', 'Filter', 'MaxResults', 'NextToken', 'DryRun', 'IncludeManagedResources'],
  (ctx) => {
    const { q, region, ec2 } = ctx;
    const ids = q.strList('InstanceId');
    checkInstanceIds(ids);
    const filters = parseFilters(q);
    const accept = compileFilters(filters, INSTANCE_FILTERS);
    const page = pageRequest(
      q,
      'DescribeInstances',
      { min: 5, max: 1000 },
      { param: 'InstanceId', xmlName: 'instancesSet' },
    );
    const lagMs = ctx.faults.settings.describeInstancesLagSeconds * 1000;
    const visibleAfter = ec2.clock.now() - lagMs;
    const visible = (i: Instance) => lagMs === 0 || i.createdAt <= visibleAfter;

    let source: Iterable<Instance>;
    if (ids.length > 0) {
      const found: Instance[] = [];
      const missing: string[] = [];
      for (const id of new Set(ids)) {
        const instance = region.instances.get(id);
        if (instance && visible(instance)) found.push(instance);
        else missing.push(id);
      }
      if (missing.length > 0) throw instancesNotFound(missing);
      source = sortBySeq(found).filter((i) => i.seq > page.afterSeq);
    } else {
      source = indexedSource(region, filters, page.afterSeq);
    }
    checkDryRun(ctx);
    const result = takePage(source, (i) => visible(i) && accept(i), page.limit, 'DescribeInstances');
    return { reservationSet: renderReservations(result.items, ec2.accountId), nextToken: result.nextToken };
  },
);

/** Narrows the scan with an index when an exact `instance-id` or single-valued `key-name` filter allows it. */
function indexedSource(
  region: RegionState,
  filters: ReturnType<typeof parseFilters>,
  afterSeq: number,
): Iterable<Instance> {
  const ids = exactValues(filters, 'instance-id');
  if (ids) {
    return sortBySeq(ids.flatMap((id) => region.instances.get(id) ?? [])).filter((i) => i.seq > afterSeq);
  }
  const keys = exactValues(filters, 'key-name');
  if (keys?.length === 1) return region.instancesByKey.get(keys[0])?.from(afterSeq) ?? [];
  return region.instanceOrder.from(afterSeq);
}

export const terminateInstances = action(['InstanceId', 'DryRun', 'Force', 'SkipOsShutdown'], (ctx) => {
  const { q, region, ec2 } = ctx;
  const ids = q.strList('InstanceId');
  if (ids.length === 0) throw missingParameter('InstanceId');
  checkInstanceIds(ids);
  const unique = [...new Set(ids)];
  const missing = unique.filter((id) => !region.instances.has(id));
  if (missing.length > 0) throw instancesNotFound(missing);
  checkDryRun(ctx);
  const changes = unique.map((id) => {
    const instance = region.instances.get(id) as Instance;
    return ec2.instances.terminate(instance);
  });
  return {
    instancesSet: changes.map(({ instance, previous }) => ({
      instanceId: instance.instanceId,
      currentState: { code: STATE_CODES[instance.state], name: instance.state },
      previousState: { code: STATE_CODES[previous], name: previous },
    })),
  };
});

const INSTANCE_ATTRIBUTES = [
  'instanceType', 'kernel', 'ramdisk', 'userData', 'disableApiTermination', 'instanceInitiatedShutdownBehavior',
  'rootDeviceName', 'blockDeviceMapping', 'productCodes', 'sourceDestCheck', 'groupSet', 'ebsOptimized',
  'sriovNetSupport', 'enaSupport', 'enclaveOptions', 'disableApiStop',
] as const; // prettier-ignore

export const describeInstanceAttribute = action(['InstanceId', 'Attribute', 'DryRun'], (ctx) => {
  const { q, region } = ctx;
  const id = q.required('InstanceId');
  checkInstanceIds([id]);
  const attribute = q.oneOf('Attribute', INSTANCE_ATTRIBUTES);
  if (attribute === undefined) throw missingParameter('Attribute');
  const instance = region.instances.get(id);
  if (!instance) throw instancesNotFound([id]);
  checkDryRun(ctx);
  const value = (v: string | boolean | undefined) => ({ value: v });
  const answers: Record<(typeof INSTANCE_ATTRIBUTES)[number], XmlObject> = {
    instanceType: { instanceType: value(instance.instanceType) },
    kernel: { kernel: {} },
    ramdisk: { ramdisk: {} },
    userData: { userData: instance.userData === undefined ? {} : value(instance.userData) },
    disableApiTermination: { disableApiTermination: value(false) },
    instanceInitiatedShutdownBehavior: { instanceInitiatedShutdownBehavior: value(instance.shutdownBehavior) },
    rootDeviceName: { rootDeviceName: value(instance.rootDeviceName) },
    blockDeviceMapping: { blockDeviceMapping: renderInstance(instance).blockDeviceMapping },
    productCodes: { productCodes: [] },
    sourceDestCheck: { sourceDestCheck: value(true) },
    groupSet: { groupSet: instance.securityGroupIds.map((groupId) => ({ groupId, groupName: groupId })) },
    ebsOptimized: { ebsOptimized: value(false) },
    sriovNetSupport: { sriovNetSupport: {} },
    enaSupport: { enaSupport: value(true) },
    enclaveOptions: { enclaveOptions: { enabled: false } },
    disableApiStop: { disableApiStop: value(false) },
  };
  return { instanceId: id, ...answers[attribute] };
});
