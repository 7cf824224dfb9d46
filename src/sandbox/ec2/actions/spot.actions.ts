import { action, checkDryRun, replayOf } from '../context';
import { DEFAULT_INSTANCE_TYPE, INSTANCE_TYPES, PRODUCT_DESCRIPTIONS, ProductDescription } from '../catalog';
import { Ec2Error, invalidCombination, invalidValue, missingParameter, notFound } from '../errors';
import { compileFilters, FilterSpec, parseFilters } from '../filters';
import { parseLaunchSpec, validateLaunchSpec } from '../launch';
import { SpotRequest } from '../model';
import { decodeToken, encodeToken, pageRequest, takePage } from '../paging';
import { PricePoint } from '../prices';
import { renderSpotRequest } from '../render';
import { formatPrice } from '../spot';
import { parseTagSpecifications } from '../tags';
import { iso } from '../xml';

const SPOT_REQUEST_ID = /^sir-[a-z0-9]{8}$/;

export const SPOT_REQUEST_FILTERS: FilterSpec<SpotRequest> = {
  fields: {
    'spot-instance-request-id': (r) => r.spotInstanceRequestId,
    state: (r) => r.state,
    'status-code': (r) => r.statusCode,
    'status-message': (r) => r.statusMessage,
    type: (r) => r.type,
    'spot-price': (r) => r.spotPrice,
    'launch.key-name': (r) => r.launch.keyName,
    'launch.instance-type': (r) => r.launch.instanceType,
    'launch.image-id': (r) => r.launch.imageId,
    'launch.group-id': (r) => r.launch.securityGroupIds,
    'launched-availability-zone': (r) => r.launchedZone,
    'instance-id': (r) => r.instanceId,
    'product-description': (r) => r.productDescription,
    'create-time': (r) => iso(r.createTime),
    'valid-from': (r) => (r.validFrom === undefined ? undefined : iso(r.validFrom)),
    'valid-until': (r) => (r.validUntil === undefined ? undefined : iso(r.validUntil)),
  },
  tags: (r) => r.tags,
};

const PRICE_FILTERS: FilterSpec<PricePoint> = {
  fields: {
    'availability-zone': (p) => p.zone,
    'instance-type': (p) => p.instanceType,
    'product-description': (p) => p.productDescription,
    'spot-price': (p) => formatPrice(p.price),
    timestamp: (p) => iso(p.timestamp),
  },
};

function checkSpotIds(ids: string[]): void {
  for (const id of ids) {
    if (!SPOT_REQUEST_ID.test(id)) {
      throw new Ec2Error('InvalidSpotInstanceRequestID.Malformed', `Invalid id: "${id}" (expecting "sir-...")`);
    }
  }
}

export const requestSpotInstances = action(
  [
    'LaunchSpecification', 'TagSpecification', 'InstanceInterruptionBehavior', 'DryRun', 'SpotPrice', 'ClientToken',
    'InstanceCount', 'Type', 'ValidFrom', 'ValidUntil', 'LaunchGroup', 'AvailabilityZoneGroup', 'BlockDurationMinutes',
  ], // prettier-ignore
  (ctx) => {
    const { q, region, ec2 } = ctx;
    const launchQuery = q.child('LaunchSpecification');
    if (!launchQuery) throw missingParameter('LaunchSpecification');
    const launch = parseLaunchSpec(launchQuery, DEFAULT_INSTANCE_TYPE, 'LaunchSpecification.ImageId');
    const count = q.int('InstanceCount', 1, 1000) ?? 1;
    const type = q.oneOf('Type', ['one-time', 'persistent']) ?? 'one-time';
    const behavior = q.oneOf('InstanceInterruptionBehavior', ['hibernate', 'stop', 'terminate']) ?? 'terminate';
    if (type === 'one-time' && behavior !== 'terminate') {
      throw invalidCombination(`The interruption behavior '${behavior}' requires a persistent Spot Instance request.`);
    }
    const spotPrice = q.price('SpotPrice');
    const validFrom = q.date('ValidFrom');
    const validUntil = q.date('ValidUntil');
    const now = ec2.clock.now();
    if (validUntil !== undefined && validUntil <= now) {
      throw invalidValue('ValidUntil', iso(validUntil), 'ValidUntil must be in the future.');
    }
    if (validFrom !== undefined && validUntil !== undefined && validFrom >= validUntil) {
      throw invalidCombination('ValidFrom must be before ValidUntil.');
    }
    const tags =
      parseTagSpecifications(q, ['spot-instances-request']).get('spot-instances-request') ?? new Map<string, string>();
    const clientToken = q.str('ClientToken');
    const previous = replayOf(region.spotTokens, clientToken, ctx);
    if (previous) {
      const existing = previous.ids.flatMap((id) => region.spotRequests.get(id) ?? []);
      return { spotInstanceRequestSet: existing.map(renderSpotRequest) };
    }
    const resolved = validateLaunchSpec(region, launch);
    // Open requests hold their vCPUs against the spot quota until they are fulfilled or closed.
    if (region.capacity.quotaRoom('spot', resolved.instanceType) < count) {
      throw region.capacity.quotaError('spot', resolved.instanceType, count);
    }
    checkDryRun(ctx);
    const requests = ec2.spot.create(
      region,
      { launch: resolved, spotPrice, type, validFrom, validUntil, interruptionBehavior: behavior, tags, clientToken },
      count,
    );
    if (clientToken !== undefined) {
      region.spotTokens.set(clientToken, {
        fingerprint: ctx.fingerprint,
        ids: requests.map((r) => r.spotInstanceRequestId),
      });
    }
    return { spotInstanceRequestSet: requests.map(renderSpotRequest) };
  },
);

export const describeSpotInstanceRequests = action(
  ['SpotInstanceRequestId', 'Filter', 'MaxResults', 'NextToken', 'DryRun'],
  (ctx) => {
    const { q, region, ec2 } = ctx;
    const ids = q.strList('SpotInstanceRequestId');
    checkSpotIds(ids);
    const accept = compileFilters(parseFilters(q), SPOT_REQUEST_FILTERS);
    const page = pageRequest(q, 'DescribeSpotInstanceRequests', { min: 5, max: 1000 });
    const lagMs = ctx.faults.settings.describeSpotRequestsLagSeconds * 1000;
    const visibleAfter = ec2.clock.now() - lagMs;
    const visible = (r: SpotRequest) => lagMs === 0 || r.createdAt <= visibleAfter;
    let source: Iterable<SpotRequest> = region.spotOrder.from(page.afterSeq);
    if (ids.length > 0) {
      const unique = [...new Set(ids)];
      const missing = unique.filter((id) => {
        const request = region.spotRequests.get(id);
        return !request || !visible(request);
      });
      if (missing.length > 0) throw notFound('InvalidSpotInstanceRequestID.NotFound', 'spot instance request', missing);
      source = unique
        .map((id) => region.spotRequests.get(id) as SpotRequest)
        .filter((r) => r.seq > page.afterSeq)
        .sort((a, b) => a.seq - b.seq);
    }
    checkDryRun(ctx);
    const result = takePage(source, (r) => visible(r) && accept(r), page.limit, 'DescribeSpotInstanceRequests');
    return { spotInstanceRequestSet: result.items.map(renderSpotRequest), nextToken: result.nextToken };
  },
);

export const cancelSpotInstanceRequests = action(['SpotInstanceRequestId', 'DryRun'], (ctx) => {
  const { q, region, ec2 } = ctx;
  const ids = q.strList('SpotInstanceRequestId');
  if (ids.length === 0) throw missingParameter('SpotInstanceRequestId');
  checkSpotIds(ids);
  const unique = [...new Set(ids)];
  const missing = unique.filter((id) => !region.spotRequests.has(id));
  if (missing.length > 0) throw notFound('InvalidSpotInstanceRequestID.NotFound', 'spot instance request', missing);
  checkDryRun(ctx);
  return {
    spotInstanceRequestSet: unique.map((id) => {
      const request = region.spotRequests.get(id) as SpotRequest;
      const { state } = ec2.spot.cancel(request);
      return { spotInstanceRequestId: id, state };
    }),
  };
});

export const describeSpotPriceHistory = action(
  [
    'AvailabilityZoneId', 'DryRun', 'StartTime', 'EndTime', 'InstanceType', 'ProductDescription', 'Filter',
    'AvailabilityZone', 'MaxResults', 'NextToken',
  ], // prettier-ignore
  (ctx) => {
    const { q, region, ec2 } = ctx;
    const types = q.strList('InstanceType');
    for (const t of types) if (!INSTANCE_TYPES[t]) throw invalidValue('InstanceType', t, 'Unknown instance type.');
    const descriptions = q.strList('ProductDescription');
    for (const d of descriptions) {
      if (!(PRODUCT_DESCRIPTIONS as readonly string[]).includes(d)) throw invalidValue('ProductDescription', d);
    }
    const zone = q.str('AvailabilityZone');
    const zoneId = q.str('AvailabilityZoneId');
    const zones = region.zones.filter(
      (z) => (zone === undefined || z.name === zone) && (zoneId === undefined || z.id === zoneId),
    );
    if ((zone !== undefined || zoneId !== undefined) && zones.length === 0) {
      throw invalidValue(zone !== undefined ? 'AvailabilityZone' : 'AvailabilityZoneId', zone ?? zoneId ?? '');
    }
    const accept = compileFilters(parseFilters(q), PRICE_FILTERS);
    const limit = q.int('MaxResults', 1, 10000) ?? 1000;
    const token = q.str('NextToken');
    const position = token ? decodeToken(token, 'DescribeSpotPriceHistory') : undefined;
    // A token pins the end of the window so that pages do not shift while simulated time moves on.
    const end = position?.extra ?? q.date('EndTime') ?? ec2.clock.now();
    const start = q.date('StartTime') ?? end;
    if (start > end) throw invalidValue('StartTime', iso(start), 'StartTime must be before EndTime.');
    checkDryRun(ctx);
    const pools = zones.flatMap((z) =>
      (types.length > 0 ? types : Object.keys(INSTANCE_TYPES)).map((instanceType) => ({ zone: z.name, instanceType })),
    );
    const points = ec2.market
      .history(
        region.name,
        pools,
        descriptions.length > 0 ? (descriptions as ProductDescription[]) : PRODUCT_DESCRIPTIONS,
        start,
        end,
      )
      .filter(accept);
    const offset = position?.position ?? 0;
    const slice = points.slice(offset, offset + limit);
    return {
      spotPriceHistorySet: slice.map((p) => ({
        instanceType: p.instanceType,
        productDescription: p.productDescription,
        spotPrice: formatPrice(p.price),
        timestamp: iso(p.timestamp),
        availabilityZone: p.zone,
      })),
      nextToken:
        offset + limit < points.length ? encodeToken('DescribeSpotPriceHistory', offset + limit, end) : undefined,
    };
  },
);
