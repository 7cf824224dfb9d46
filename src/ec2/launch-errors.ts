import type { LaunchOutcomeKind } from '../state/entities';

/** What an EC2 launch error means for the service: the outcome to record, and the cooldown it starts. */
export interface LaunchErrorClass {
  outcome: Exclude<LaunchOutcomeKind, 'success'>;
  /** `capacity`: the pool is short (SPEC §11); `quota`: the account's quota for the lifecycle is used up. */
  cooldown: 'capacity' | 'quota' | null;
}

const CAPACITY = new Set(['InsufficientInstanceCapacity', 'UnfulfillableCapacity', 'InsufficientCapacity']);
const QUOTA = new Set([
  'MaxSpotInstanceCountExceeded',
  'VcpuLimitExceeded',
  'InstanceLimitExceeded',
  'MaxFleetCountExceeded',
]);
const THROTTLED = new Set(['RequestLimitExceeded', 'Throttling', 'ThrottlingException', 'RequestThrottled']);

/**
 * The one place an EC2 launch error code is given its meaning (SPEC §11, §12). Capacity and quota are
 * kept apart: a quota is the account's and bites every pool of the lifecycle, a capacity shortage only
 * its pool. A price below the market (`SpotMaxPriceTooLow`) is the caller's parameter, not a shortage.
 */
export function classifyLaunchError(code: string | undefined): LaunchErrorClass {
  if (code === undefined) return { outcome: 'error', cooldown: null };
  if (CAPACITY.has(code)) return { outcome: 'insufficient-capacity', cooldown: 'capacity' };
  if (QUOTA.has(code)) return { outcome: 'quota', cooldown: 'quota' };
  if (THROTTLED.has(code)) return { outcome: 'throttled', cooldown: null };
  if (
    /^(Invalid|Unknown|Missing)/.test(code) ||
    /\.(NotFound|Malformed|NotFoundException|MalformedException)$/.test(code) ||
    code === 'IdempotentParameterMismatch' ||
    code === 'SpotMaxPriceTooLow' ||
    code === 'UnauthorizedOperation'
  ) {
    return { outcome: 'invalid', cooldown: null };
  }
  return { outcome: 'error', cooldown: null };
}
