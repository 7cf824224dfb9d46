import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { keyPairNameFor, NamingConfig } from '../../ec2/naming';
import { Reason } from '../../common/errors';
import { Failure, validationReasons } from '../validation';
import { RequestSpotInstanceDto, RunInstanceDto } from '../dto/launch.dto';
import { LaunchFleetDto } from '../fleet/fleet.dto';

/** The rules of SPEC §8's launch validation, in the order it lists them; reasons are reported in this order. */
export const LAUNCH_RULES = [
  'schema',
  'region',
  'key-name',
  'mandatory-keys',
  'allowed-keys',
  'availability-zone',
  'candidates',
  'policy',
  'client-token',
] as const;
export type LaunchRule = (typeof LAUNCH_RULES)[number];

export interface LaunchValidationContext extends NamingConfig {
  regions: readonly string[];
}

export type LaunchKind = 'spot-request' | 'instance' | 'fleet';

const SPEC_KEY: Record<LaunchKind, 'LaunchSpecification' | 'LaunchInfo'> = {
  'spot-request': 'LaunchSpecification',
  instance: 'LaunchInfo',
  fleet: 'LaunchSpecification',
};

const BODY_CLASS: Record<LaunchKind, new () => object> = {
  'spot-request': RequestSpotInstanceDto,
  instance: RunInstanceDto,
  fleet: LaunchFleetDto,
};

/** Keys a fleet's launch specification leaves to its candidates. */
const FROM_CANDIDATES = new Set(['InstanceType', 'Placement', 'SubnetId']);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Local Zones (`us-west-2-lax-1a`) belong to their parent region too. */
export function zoneInRegion(zone: string, region: string): boolean {
  if (!zone.startsWith(region)) return false;
  return /^(-[a-z]+-\d+)?[a-z]$/.test(zone.slice(region.length));
}

/** Unknown and missing keys directly in the launch specification break launch rules of their own. */
function launchReason(kind: LaunchKind): (f: Failure) => Reason {
  const specKey = SPEC_KEY[kind];
  return (f) => {
    const inSpecRoot = f.parent === specKey;
    if (f.constraint === 'whitelistValidation') {
      if (inSpecRoot && kind === 'fleet' && FROM_CANDIDATES.has(f.property)) {
        return {
          rule: 'allowed-keys',
          path: f.path,
          message: `${f.property} comes from each of Candidates, not the launch specification`,
        };
      }
      return inSpecRoot
        ? { rule: 'allowed-keys', path: f.path, message: `${f.property} is not an allowed launch specification key` }
        : { rule: 'schema', path: f.path, message: `${f.property} is not an accepted field` };
    }
    return {
      rule: inSpecRoot && f.constraint === 'isDefined' ? 'mandatory-keys' : 'schema',
      path: f.path,
      message: f.message,
    };
  };
}

/**
 * Every rule of SPEC §8's launch validation that can be checked without EC2, all of them at once:
 * schema (with the region), the key name, mandatory and allowed keys, the availability zone.
 * Returns the reasons the launch is refused, in the SPEC's order; none means "ask EC2 (DryRun)".
 */
export function validateLaunch<T extends RequestSpotInstanceDto | RunInstanceDto | LaunchFleetDto>(
  kind: LaunchKind,
  workerType: string,
  raw: unknown,
  ctx: LaunchValidationContext,
): { reasons: Reason[]; launch?: T } {
  if (!isObject(raw)) return { reasons: [{ rule: 'schema', message: 'the body must be a JSON object' }] };
  const specKey = SPEC_KEY[kind];
  const body = plainToInstance(BODY_CLASS[kind], raw) as T;
  const errors = validateSync(body, {
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    validationError: { target: false, value: false },
  });
  const reasons = validationReasons(errors, launchReason(kind));

  if (kind === 'instance' && raw.RequestType === 'on-demand' && raw.SpotPrice !== undefined) {
    reasons.push({ rule: 'schema', path: 'SpotPrice', message: "SpotPrice is only for RequestType 'spot'" });
  }
  const region = typeof raw.Region === 'string' ? raw.Region : undefined;
  if (region !== undefined && region.length > 0 && !ctx.regions.includes(region)) {
    reasons.push({
      rule: 'region',
      path: 'Region',
      message: `Region ${region} is not one of this service's regions (${ctx.regions.join(', ')})`,
    });
  }
  const spec = raw[specKey];
  if (isObject(spec)) {
    const expected = keyPairNameFor(ctx, workerType);
    if (typeof spec.KeyName === 'string' && spec.KeyName !== expected) {
      reasons.push({
        rule: 'key-name',
        path: `${specKey}.KeyName`,
        message: `KeyName must be ${expected}, the key pair of worker type ${workerType} (got ${JSON.stringify(spec.KeyName)})`,
      });
    }
    const zone = isObject(spec.Placement) ? spec.Placement.AvailabilityZone : undefined;
    if (
      typeof zone === 'string' &&
      region !== undefined &&
      ctx.regions.includes(region) &&
      !zoneInRegion(zone, region)
    ) {
      reasons.push({
        rule: 'availability-zone',
        path: `${specKey}.Placement.AvailabilityZone`,
        message: `availability zone ${zone} is not in region ${region}`,
      });
    }
  }
  if (kind === 'fleet') reasons.push(...fleetReasons(raw, region, ctx));
  sortReasons(reasons);
  if (reasons.length > 0) return { reasons };
  return { reasons, launch: body };
}

/** Sorts reasons into the order of LAUNCH_RULES (stable within a rule). */
export function sortReasons(reasons: Reason[]): Reason[] {
  const order = (r: Reason) => LAUNCH_RULES.indexOf(r.rule as LaunchRule);
  return reasons.sort((a, b) => order(a) - order(b));
}

/** The rules of SPEC §11 a fleet body adds: each candidate's zone in the region, a zone or a subnet, options that fit the capacity. */
function fleetReasons(
  raw: Record<string, unknown>,
  region: string | undefined,
  ctx: LaunchValidationContext,
): Reason[] {
  const reasons: Reason[] = [];
  const candidates = Array.isArray(raw.Candidates) ? (raw.Candidates as unknown[]) : [];
  candidates.forEach((c, i) => {
    if (!isObject(c)) return;
    const zone = c.AvailabilityZone;
    if (
      typeof zone === 'string' &&
      region !== undefined &&
      ctx.regions.includes(region) &&
      !zoneInRegion(zone, region)
    ) {
      reasons.push({
        rule: 'availability-zone',
        path: `Candidates[${i}].AvailabilityZone`,
        message: `availability zone ${zone} is not in region ${region}`,
      });
    }
    if (zone !== undefined && c.SubnetId !== undefined) {
      reasons.push({
        rule: 'candidates',
        path: `Candidates[${i}]`,
        message: 'a candidate names a zone or a subnet, not both (the subnet says its zone)',
      });
    }
  });
  if (raw.Capacity === 'on-demand') {
    for (const key of ['AllocationStrategy', 'MaxSpotPrice'] as const) {
      if (raw[key] !== undefined) {
        reasons.push({ rule: 'schema', path: key, message: `${key} is for spot capacity; Capacity is on-demand` });
      }
    }
  }
  return reasons;
}
