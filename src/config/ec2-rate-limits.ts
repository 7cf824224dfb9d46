/**
 * EC2's throttling buckets, as AWS documents them
 * (https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html), and the `EC2_RATE_LIMITS`
 * setting that overrides them (an account whose limits AWS raised, or a share of the account's budget
 * for this service). AWS throttles each action on its own bucket, sized by the action's category; a
 * few actions have sizes of their own, and the instance actions also spend one resource token per
 * instance.
 */

export interface BucketLimit {
  /** Tokens the bucket holds when full: the largest burst. */
  capacity: number;
  /** Tokens added per second: the sustained rate. */
  refillPerSecond: number;
}

export const REQUEST_CATEGORIES = ['non-mutating', 'unfiltered', 'mutating', 'resource-intensive'] as const;
export type RequestCategory = (typeof REQUEST_CATEGORIES)[number];

/** Actions that also spend one resource token per instance they act on. */
export const RESOURCE_ACTIONS = ['RunInstances', 'TerminateInstances', 'StartInstances', 'StopInstances'] as const;
export type ResourceAction = (typeof RESOURCE_ACTIONS)[number];

export interface Ec2RateLimits {
  /** The request bucket each action of a category gets (each action has its own bucket of this size). */
  categories: Record<RequestCategory, BucketLimit>;
  /** Request buckets of actions sized apart from their category (AWS's "uncategorized actions"). */
  actions: Record<string, BucketLimit>;
  /** Resource-token buckets: instances launched, terminated, started or stopped. */
  resources: Record<ResourceAction, BucketLimit>;
}

/** AWS's default sizes, per account and region. */
export const AWS_EC2_RATE_LIMITS: Ec2RateLimits = {
  categories: {
    'non-mutating': { capacity: 100, refillPerSecond: 20 },
    unfiltered: { capacity: 50, refillPerSecond: 10 },
    mutating: { capacity: 50, refillPerSecond: 5 },
    'resource-intensive': { capacity: 50, refillPerSecond: 5 },
  },
  actions: {
    RunInstances: { capacity: 5, refillPerSecond: 2 },
    TerminateInstances: { capacity: 100, refillPerSecond: 5 },
    StartInstances: { capacity: 5, refillPerSecond: 2 },
    CreateTags: { capacity: 100, refillPerSecond: 10 },
    DeleteTags: { capacity: 100, refillPerSecond: 10 },
  },
  resources: {
    RunInstances: { capacity: 1000, refillPerSecond: 2 },
    TerminateInstances: { capacity: 1000, refillPerSecond: 20 },
    StartInstances: { capacity: 1000, refillPerSecond: 2 },
    StopInstances: { capacity: 1000, refillPerSecond: 20 },
  },
};

/** Mutating actions AWS throttles harder than the rest (those of its list this service may call). */
const RESOURCE_INTENSIVE = new Set([
  'AcceptVpcPeeringConnection',
  'AuthorizeSecurityGroupIngress',
  'CancelSpotInstanceRequests',
  'CreateKeyPair',
  'CreateVpcPeeringConnection',
  'DeleteVpcPeeringConnection',
  'RejectVpcPeeringConnection',
  'RevokeSecurityGroupIngress',
  'RequestSpotInstances',
]);

/** Describes that take from a smaller bucket when called with neither a filter nor paging. */
const UNFILTERED_CAPABLE = new Set([
  'DescribeInstances',
  'DescribeInstanceStatus',
  'DescribeNetworkInterfaces',
  'DescribeSecurityGroups',
  'DescribeSnapshots',
  'DescribeSpotInstanceRequests',
  'DescribeVolumes',
]);

/** What of a request decides its bucket (the SDK input of any EC2 command has these optional fields). */
export interface RequestShape {
  Filters?: unknown[];
  MaxResults?: number;
  NextToken?: string;
}

export function requestCategory(action: string, input: RequestShape = {}): RequestCategory {
  if (/^(Describe|List|Search|Get)/.test(action)) {
    const paged = input.MaxResults !== undefined || input.NextToken !== undefined;
    const filtered = (input.Filters?.length ?? 0) > 0;
    return UNFILTERED_CAPABLE.has(action) && !paged && !filtered ? 'unfiltered' : 'non-mutating';
  }
  return RESOURCE_INTENSIVE.has(action) ? 'resource-intensive' : 'mutating';
}

/**
 * Parses `EC2_RATE_LIMITS` over AWS's defaults: a comma-separated list of `<bucket>=<capacity>:<refill
 * per second>`, where a bucket is a category (`non-mutating`, `unfiltered`, `mutating`,
 * `resource-intensive`: every action of it), one action's request bucket (`RunInstances`), or one
 * action's resource bucket (`RunInstances.instances`).
 */
export function parseEc2RateLimits(spec: string | undefined): Ec2RateLimits {
  const limits: Ec2RateLimits = {
    categories: { ...AWS_EC2_RATE_LIMITS.categories },
    actions: { ...AWS_EC2_RATE_LIMITS.actions },
    resources: { ...AWS_EC2_RATE_LIMITS.resources },
  };
  for (const part of (spec ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^([A-Za-z-]+)(\.instances)?=(\d+(?:\.\d+)?):(\d+(?:\.\d+)?)$/.exec(part);
    if (!m) throw new Error(`"${part}" is not <bucket>=<capacity>:<refill per second>`);
    const [, name, resource, capacityText, refillText] = m;
    const limit = { capacity: Number(capacityText), refillPerSecond: Number(refillText) };
    if (limit.capacity < 1 || limit.refillPerSecond <= 0) {
      throw new Error(`"${part}": capacity must be >= 1 and refill > 0`);
    }
    if (resource) {
      if (!(RESOURCE_ACTIONS as readonly string[]).includes(name)) {
        throw new Error(`"${part}": resource buckets are ${RESOURCE_ACTIONS.map((a) => `${a}.instances`).join(', ')}`);
      }
      limits.resources[name as ResourceAction] = limit;
    } else if ((REQUEST_CATEGORIES as readonly string[]).includes(name)) {
      limits.categories[name as RequestCategory] = limit;
    } else if (/^[A-Z][A-Za-z0-9]+$/.test(name)) {
      limits.actions[name] = limit;
    } else {
      throw new Error(
        `"${part}": the bucket must be a category (${REQUEST_CATEGORIES.join(', ')}), an EC2 action ` +
          `(RunInstances) or an action's resource bucket (RunInstances.instances)`,
      );
    }
  }
  return limits;
}
