import { randomUUID } from 'node:crypto';
import { action, checkDryRun } from '../context';
import { Ec2Error, invalidCombination, invalidValue, missingParameter } from '../errors';
import {
  buildPools,
  FleetConfig,
  FleetOverride,
  FleetPlan,
  FleetRequest,
  ON_DEMAND_STRATEGIES,
  planFleet,
  renderPool,
  SPOT_STRATEGIES,
} from '../fleet';
import { INSTANCE_TYPES } from '../catalog';
import { RegionState, Tags } from '../model';
import { Query } from '../query';
import type { SimEc2 } from '../sim-ec2';
import { parseTagSpecifications } from '../tags';
import { XmlObject } from '../xml';

const MAX_CONFIGS = 50;
const MAX_OVERRIDES = 300;
const MAX_TARGET = 10_000;

function parseOverride(o: Query): FleetOverride {
  const instanceType = o.str('InstanceType');
  if (instanceType !== undefined && !INSTANCE_TYPES[instanceType]) {
    throw invalidValue('InstanceType', instanceType, 'The instance type does not exist.');
  }
  const weight = o.str('WeightedCapacity');
  const priority = o.str('Priority');
  return {
    instanceType,
    availabilityZone: o.str('AvailabilityZone'),
    subnetId: o.str('SubnetId'),
    maxPrice: o.price('MaxPrice'),
    weightedCapacity: weight === undefined ? undefined : positive('WeightedCapacity', weight),
    priority: priority === undefined ? undefined : nonNegative('Priority', priority),
    imageId: o.str('ImageId'),
  };
}

function positive(name: string, raw: string): number {
  const n = Number(raw);
  if (!(n > 0) || !Number.isFinite(n)) throw invalidValue(name, raw, 'Expected a number greater than 0.');
  return n;
}

function nonNegative(name: string, raw: string): number {
  const n = Number(raw);
  if (!(n >= 0) || !Number.isFinite(n)) throw invalidValue(name, raw, 'Expected a number of at least 0.');
  return n;
}

function parseConfigs(q: Query): FleetConfig[] {
  const items = q.list('LaunchTemplateConfigs');
  if (items.length === 0) throw missingParameter('LaunchTemplateConfigs');
  if (items.length > MAX_CONFIGS) {
    throw invalidValue('LaunchTemplateConfigs', String(items.length), `At most ${MAX_CONFIGS} configurations.`);
  }
  const configs = items.map((item, i) => {
    const path = `LaunchTemplateConfigs.${i + 1}.LaunchTemplateSpecification.`;
    const spec = item.child('LaunchTemplateSpecification');
    if (!spec) throw missingParameter(`LaunchTemplateConfigs.${i + 1}.LaunchTemplateSpecification`);
    const id = spec.str('LaunchTemplateId');
    const name = spec.str('LaunchTemplateName');
    if (id === undefined && name === undefined) {
      throw missingParameter(`${path}LaunchTemplateId or ${path}LaunchTemplateName`);
    }
    if (id !== undefined && name !== undefined) {
      throw invalidCombination(`${path}LaunchTemplateId and ${path}LaunchTemplateName cannot be used together.`);
    }
    // EC2 Fleet, unlike RunInstances, insists on a version.
    const version = spec.required('Version');
    return { template: { id, name, version }, overrides: item.list('Overrides').map(parseOverride) };
  });
  const overrides = configs.reduce((n, c) => n + c.overrides.length, 0);
  if (overrides > MAX_OVERRIDES) {
    throw invalidValue('Overrides', String(overrides), `At most ${MAX_OVERRIDES} overrides in one fleet.`);
  }
  return configs;
}

function parseTargets(q: Query): { spot: number; onDemand: number } {
  const t = q.child('TargetCapacitySpecification');
  if (!t) throw missingParameter('TargetCapacitySpecification');
  const total = t.int('TotalTargetCapacity', 1, MAX_TARGET);
  if (total === undefined) throw missingParameter('TargetCapacitySpecification.TotalTargetCapacity');
  const spot = t.int('SpotTargetCapacity', 0, MAX_TARGET);
  const onDemand = t.int('OnDemandTargetCapacity', 0, MAX_TARGET);
  const kind = t.oneOf('DefaultTargetCapacityType', ['spot', 'on-demand', 'capacity-block']) ?? 'on-demand';
  if (kind === 'capacity-block') {
    throw invalidValue('DefaultTargetCapacityType', kind, 'Capacity blocks are not simulated.');
  }
  if (t.has('TargetCapacityUnitType')) {
    throw invalidValue('TargetCapacityUnitType', t.str('TargetCapacityUnitType') ?? '', 'Not simulated.');
  }
  if ((spot ?? 0) + (onDemand ?? 0) > total) {
    throw invalidCombination(
      'The sum of SpotTargetCapacity and OnDemandTargetCapacity cannot be greater than TotalTargetCapacity.',
    );
  }
  // The default type takes whatever the explicit targets of the other type leave.
  return kind === 'spot'
    ? { onDemand: onDemand ?? 0, spot: total - (onDemand ?? 0) }
    : { spot: spot ?? 0, onDemand: total - (spot ?? 0) };
}

function parseOptions<S extends string>(q: Query, name: string, strategies: readonly S[]) {
  const o = q.child(name);
  for (const single of ['SingleInstanceType', 'SingleAvailabilityZone']) {
    if (o?.bool(single)) throw invalidValue(`${name}.${single}`, 'true', 'Not simulated by the sandbox.');
  }
  const maxTotal = o?.price('MaxTotalPrice');
  return {
    strategy: o?.oneOf('AllocationStrategy', strategies) ?? strategies[0],
    maxTotalPrice: maxTotal === undefined ? undefined : Number(maxTotal),
    minTargetCapacity: o?.int('MinTargetCapacity', 0, MAX_TARGET),
  };
}

function parseRequest(q: Query): FleetRequest {
  const type = q.str('Type') ?? 'maintain';
  if (type !== 'instant') {
    throw invalidValue('Type', type, 'The sandbox simulates fleets of type instant only.');
  }
  const configs = parseConfigs(q);
  const targets = parseTargets(q);
  const spot = parseOptions(q, 'SpotOptions', SPOT_STRATEGIES);
  const behavior = q.child('SpotOptions')?.oneOf('InstanceInterruptionBehavior', ['hibernate', 'stop', 'terminate']);
  if (behavior !== undefined && behavior !== 'terminate') {
    throw invalidValue('SpotOptions.InstanceInterruptionBehavior', behavior, 'Instant fleets only terminate.');
  }
  // For instant fleets EC2 tags the fleet and the instances here; volumes are tagged through the launch template.
  const tagSpecs = parseTagSpecifications(q, ['fleet', 'instance']);
  return {
    configs,
    spotTarget: targets.spot,
    onDemandTarget: targets.onDemand,
    spot,
    onDemand: parseOptions(q, 'OnDemandOptions', ON_DEMAND_STRATEGIES),
    tags: {
      instance: tagSpecs.get('instance') ?? new Map<string, string>(),
      fleet: tagSpecs.get('fleet') ?? new Map<string, string>(),
    },
  };
}

export const createFleet = action(
  [
    'DryRun', 'ClientToken', 'SpotOptions', 'OnDemandOptions', 'ExcessCapacityTerminationPolicy',
    'LaunchTemplateConfigs', 'TargetCapacitySpecification', 'TerminateInstancesWithExpiration', 'Type', 'ValidFrom',
    'ValidUntil', 'ReplaceUnhealthyInstances', 'TagSpecification', 'Context',
  ], // prettier-ignore
  (ctx) => {
    const { q, region, ec2 } = ctx;
    const request = parseRequest(q);
    const clientToken = q.str('ClientToken');
    if (clientToken !== undefined && clientToken.length > 64) {
      throw invalidValue('ClientToken', clientToken, 'At most 64 characters.');
    }
    if (clientToken !== undefined) {
      const previous = region.fleetTokens.get(clientToken);
      if (previous) {
        if (previous.fingerprint !== ctx.fingerprint) {
          throw new Ec2Error(
            'IdempotentParameterMismatch',
            `The client token '${clientToken}' was used with other parameters.`,
          );
        }
        checkDryRun(ctx);
        return previous.response;
      }
    }
    const pools = buildPools(region, request);
    const usable = pools.find((p) => !p.invalid);
    if (ctx.q.bool('DryRun')) {
      // A DryRun answers as the real call would start: refused only when no pool could launch at all.
      if (!usable && pools[0]?.invalid) throw pools[0].invalid;
      checkDryRun(ctx);
    }
    if (region.capacity.fleetsLeft !== undefined) {
      if (region.capacity.fleetsLeft <= 0) {
        throw new Ec2Error('MaxFleetCountExceeded', "You've reached your quota for maximum Fleet Requests for this account.");
      }
      region.capacity.fleetsLeft--;
    }
    const fleetId = `fleet-${randomUUID()}`;
    const plan = planFleet(ec2, region, request, pools);
    const response = launchPlan(ec2, region, fleetId, request, plan);
    if (clientToken !== undefined) region.fleetTokens.set(clientToken, { fingerprint: ctx.fingerprint, response });
    return response;
  },
);

/** Launches what the plan says: instances (spot ones with a fulfilled one-time request each), tagged as EC2 Fleet does. */
function launchPlan(ec2: SimEc2, region: RegionState, fleetId: string, request: FleetRequest, plan: FleetPlan): XmlObject {
  const fleetInstanceSet: XmlObject[] = [];
  for (const { pool, lifecycle, count } of plan.launches) {
    const spec = pool.spec;
    const data = pool.data;
    if (!spec || !data || count <= 0) continue;
    const tags: Tags = new Map([...(data.tagSpecifications.get('instance') ?? []), ...request.tags.instance]);
    tags.set('aws:ec2:fleet-id', fleetId);
    if (pool.template) {
      tags.set('aws:ec2launchtemplate:id', pool.template.launchTemplateId);
      tags.set('aws:ec2launchtemplate:version', String(versionNumber(pool.template, pool.ref.version)));
    }
    const spotRequests =
      lifecycle === 'spot'
        ? ec2.spot.create(
            region,
            {
              launch: spec,
              spotPrice: pool.override.maxPrice ?? data.spot?.maxPrice,
              type: 'one-time',
              interruptionBehavior: 'terminate',
              tags: data.tagSpecifications.get('spot-instances-request') ?? new Map<string, string>(),
            },
            count,
            { state: 'active', statusCode: 'fulfilled', autoEvaluate: true },
          )
        : [];
    const launched = ec2.instances.launch(region, spec, {
      count,
      zone: spec.zone ?? '',
      tags,
      volumeTags: data.tagSpecifications.get('volume'),
      spotRequestIds: lifecycle === 'spot' ? spotRequests.map((r) => r.spotInstanceRequestId) : undefined,
    });
    spotRequests.forEach((r, n) => {
      r.instanceId = launched[n].instanceId;
      r.launchedZone = launched[n].zone;
    });
    const zone = region.zoneByName.get(spec.zone ?? '');
    fleetInstanceSet.push({
      launchTemplateAndOverrides: renderPool(pool),
      lifecycle,
      instanceIds: launched.map((i) => i.instanceId),
      instanceType: spec.instanceType,
      availabilityZoneId: zone?.id,
      availabilityZone: zone?.name,
      subnetId: spec.subnetId,
    });
  }
  return {
    fleetId,
    errorSet: plan.errors.map(({ pool, lifecycle, error }) => ({
      launchTemplateAndOverrides: renderPool(pool),
      lifecycle,
      errorCode: error.code,
      errorMessage: error.message,
    })),
    fleetInstanceSet,
  };
}

function versionNumber(template: { defaultVersion: number; latestVersion: number }, version?: string): number {
  if (version === '$Latest') return template.latestVersion;
  if (version === undefined || version === '$Default') return template.defaultVersion;
  return Number(version);
}
