import {
  CancelSpotInstanceRequestsCommand,
  CreateTagsCommand,
  DeleteKeyPairCommand,
  DescribeAvailabilityZonesCommand,
  DescribeKeyPairsCommand,
  EC2Client,
  Filter,
  ImportKeyPairCommand,
  paginateDescribeInstances,
  paginateDescribeSpotInstanceRequests,
  paginateDescribeSpotPriceHistory,
  paginateDescribeVolumes,
  RequestSpotInstancesCommand,
  RequestSpotLaunchSpecification,
  RunInstancesCommand,
  RunInstancesCommandInput,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { Injectable } from '@nestjs/common';
import { awsErrorCode, hasAwsErrorCode } from '../aws/aws-error';
import { AppConfig } from '../config/app-config';
import { Ec2Clients } from './ec2-clients.service';
import { BATCH, chunk, IdRefusals, INSTANCE_IDS, settleIds, SPOT_REQUEST_IDS, TAGGABLE_IDS } from './batches';
import { OurInstance, ourInstance, OurSpotRequest, ourSpotRequest } from './ec2-rows';
import {
  keyPairNameFor,
  ownedWorkerType,
  ownKeyNameFilter,
  resourceTags,
  Tag,
  workerTypeKeyNameFilter,
} from './naming';

/** What a mutation may be given: a signal that, once aborted, stops it before anything more is sent (SPEC §9 fencing). */
export interface MutationOptions {
  signal?: AbortSignal;
}

/** Something of ours to act on: from a gateway answer or a state row (state holds only ours). */
export interface Owned {
  id: string;
  workerType: string;
}

/** EC2's answer about some ids: ours (parsed), not ours, or not known to EC2 (yet: its API lags). */
export interface Described<T> {
  ours: T[];
  foreign: string[];
  unknown: string[];
}

export interface Terminated {
  id: string;
  current: string;
  previous: string;
}

export interface TerminateOutcome {
  terminated: Terminated[];
  /** Refused by EC2 as unknown or malformed: not terminated, and no proof they are gone. */
  unknown: string[];
}

export interface CancelOutcome {
  cancelled: { id: string; state: string }[];
  unknown: string[];
}

export interface TagOutcome {
  tagged: string[];
  unknown: string[];
}

export interface VolumeView {
  id: string;
  volumeType: string;
  /** `in-use`, `available`, `creating`, ... */
  state: string;
  sizeGb: number;
  attachedInstanceIds: string[];
  tags: Tag[];
}

export interface SpotPricePoint {
  zone: string;
  instanceType: string;
  price: number;
  timestamp: Date;
}

/** What to launch, in EC2's own field names; `KeyName` must be a key pair of ours for the worker type. */
export type LaunchSpec = RequestSpotLaunchSpecification & { ImageId: string; InstanceType: string; KeyName: string };

export interface InstanceLaunch {
  workerType: string;
  /** Passed to EC2: the same token launches nothing twice. */
  clientToken: string;
  spec: LaunchSpec;
  /** Launch as a one-time spot instance (InstanceMarketOptions), at most at this price when given. */
  spot?: { maxPrice?: string };
}

export interface SpotRequestLaunch {
  workerType: string;
  clientToken: string;
  spec: LaunchSpec;
  spotPrice: string;
}

export interface LaunchOptions extends MutationOptions {
  /** Only ask EC2 whether it would launch (DryRun): resolves with nothing when it would, throws its refusal otherwise. */
  dryRun?: boolean;
}

/** Instance states of a resource that still costs money and may still be ours to end. */
export const UNENDED_INSTANCE_STATES = ['pending', 'running', 'stopping', 'stopped'] as const;
export const LIVE_SPOT_REQUEST_STATES = ['open', 'active'] as const;

/**
 * The one way to EC2 (outside the sandbox): the only code that builds EC2 commands. It follows every
 * page, batches at EC2's sizes, handles a batch refused for some of its ids in one way (`settleIds`),
 * tags what it creates, and parses the ownership of every answer (SPEC §2) so that nothing not ours is
 * ever handed to a caller that could act on it. Callers say what they want, per region.
 */
@Injectable()
export class Ec2Gateway {
  constructor(
    private readonly config: AppConfig,
    private readonly clients: Ec2Clients,
  ) {}

  // ---- what EC2 has of ours ----

  /** Our instances of exactly this worker type (an older key hash included), in the given states. */
  async instancesOfWorkerType(
    region: string,
    workerType: string,
    states: readonly string[] = UNENDED_INSTANCE_STATES,
  ): Promise<OurInstance[]> {
    const found = await this.instancesWhere(region, [
      { Name: 'key-name', Values: [workerTypeKeyNameFilter(this.config.managerId, workerType)] },
      { Name: 'instance-state-name', Values: [...states] },
    ]);
    // The filter's `*` also matches `other:team` or nothing at all: only the exact worker type is it.
    return found.filter((i) => i.workerType === workerType);
  }

  /** Our spot requests of exactly this worker type, in the given states. */
  async spotRequestsOfWorkerType(
    region: string,
    workerType: string,
    states: readonly string[] = LIVE_SPOT_REQUEST_STATES,
  ): Promise<OurSpotRequest[]> {
    const found = await this.spotRequestsWhere(region, [
      { Name: 'launch.key-name', Values: [workerTypeKeyNameFilter(this.config.managerId, workerType)] },
      { Name: 'state', Values: [...states] },
    ]);
    return found.filter((r) => r.workerType === workerType);
  }

  /** Every instance of ours in the region, in the given states. */
  ourInstances(region: string, states: readonly string[]): Promise<OurInstance[]> {
    return this.instancesWhere(region, [
      { Name: 'key-name', Values: [ownKeyNameFilter(this.config.managerId)] },
      { Name: 'instance-state-name', Values: [...states] },
    ]);
  }

  /** Every spot request of ours in the region, in the given states. */
  ourSpotRequests(region: string, states: readonly string[]): Promise<OurSpotRequest[]> {
    return this.spotRequestsWhere(region, [
      { Name: 'launch.key-name', Values: [ownKeyNameFilter(this.config.managerId)] },
      { Name: 'state', Values: [...states] },
    ]);
  }

  /**
   * What EC2 says of these instances (e.g. to adopt them). Asked by `instance-id` filter, which leaves
   * out an id EC2 does not know instead of refusing the whole call: such an id is `unknown`.
   */
  describeInstances(region: string, ids: readonly string[]): Promise<Described<OurInstance>> {
    return this.describeByIds(region, ids, BATCH.filterValues, 'instance-id', (filters) =>
      this.instancesWhere(region, filters, { all: true }),
    );
  }

  /** What EC2 says of these spot requests, by `spot-instance-request-id` filter (≤ 100 a call, SPEC §5). */
  describeSpotRequests(region: string, ids: readonly string[]): Promise<Described<OurSpotRequest>> {
    return this.describeByIds(region, ids, BATCH.spotRequestIds, 'spot-instance-request-id', (filters) =>
      this.spotRequestsWhere(region, filters, { all: true }),
    );
  }

  /**
   * Whether EC2 knows this instance at all, whoever's it is: a TerminateInstances DryRun, which changes
   * nothing. Asked when describe does not list an id, because describe lags launches: an id it leaves out
   * may still be a live instance (SPEC §8: never answer "gone" for what EC2 still runs).
   */
  instanceKnown(region: string, id: string): Promise<boolean> {
    return known(
      INSTANCE_IDS,
      this.client(region).send(new TerminateInstancesCommand({ InstanceIds: [id], DryRun: true })),
    );
  }

  /** Whether EC2 knows this spot request at all (a CancelSpotInstanceRequests DryRun, changing nothing). */
  spotRequestKnown(region: string, id: string): Promise<boolean> {
    return known(
      SPOT_REQUEST_IDS,
      this.client(region).send(new CancelSpotInstanceRequestsCommand({ SpotInstanceRequestIds: [id], DryRun: true })),
    );
  }

  /** Every volume of the region (EBS usage is counted for the whole account, SPEC §6). */
  async volumes(region: string): Promise<VolumeView[]> {
    const out: VolumeView[] = [];
    for await (const page of paginateDescribeVolumes({ client: this.client(region), pageSize: BATCH.volumePage }, {})) {
      for (const v of page.Volumes ?? []) {
        if (!v.VolumeId) continue;
        out.push({
          id: v.VolumeId,
          volumeType: v.VolumeType ?? 'unknown',
          state: v.State ?? 'unknown',
          sizeGb: v.Size ?? 0,
          attachedInstanceIds: (v.Attachments ?? []).flatMap((a) => (a.InstanceId ? [a.InstanceId] : [])),
          tags: (v.Tags ?? []).flatMap((t) => (t.Key !== undefined ? [{ Key: t.Key, Value: t.Value ?? '' }] : [])),
        });
      }
    }
    return out;
  }

  // ---- changing what is ours ----

  /** Terminates instances of ours, batched; what EC2 refuses as unknown is reported, never terminated. */
  async terminateInstances(
    region: string,
    instances: readonly Owned[],
    opts: MutationOptions = {},
  ): Promise<TerminateOutcome> {
    const settled = await this.settleInBatches(
      instances.map((i) => i.id),
      BATCH.terminate,
      INSTANCE_IDS,
      async (ids) => {
        const out = await this.client(region).send(new TerminateInstancesCommand({ InstanceIds: ids }), fence(opts));
        return (out.TerminatingInstances ?? []).flatMap((t) =>
          t.InstanceId
            ? [
                {
                  id: t.InstanceId,
                  current: t.CurrentState?.Name ?? 'shutting-down',
                  previous: t.PreviousState?.Name ?? 'unknown',
                },
              ]
            : [],
        );
      },
    );
    return { terminated: settled.results, unknown: [...settled.unknown, ...settled.malformed] };
  }

  /** Cancels spot requests of ours, batched (≤ 100 a call); unknown ones are reported, never cancelled. */
  async cancelSpotRequests(
    region: string,
    requests: readonly Owned[],
    opts: MutationOptions = {},
  ): Promise<CancelOutcome> {
    const settled = await this.settleInBatches(
      requests.map((r) => r.id),
      BATCH.spotRequestIds,
      SPOT_REQUEST_IDS,
      async (ids) => {
        const out = await this.client(region).send(
          new CancelSpotInstanceRequestsCommand({ SpotInstanceRequestIds: ids }),
          fence(opts),
        );
        return (out.CancelledSpotInstanceRequests ?? []).flatMap((c) =>
          c.SpotInstanceRequestId ? [{ id: c.SpotInstanceRequestId, state: c.State ?? 'cancelled' }] : [],
        );
      },
    );
    return { cancelled: settled.results, unknown: [...settled.unknown, ...settled.malformed] };
  }

  /**
   * Puts the tags of SPEC §2 on resources of one worker type of ours (instances, their volumes, spot
   * requests), up to 1000 a call.
   */
  async tag(
    region: string,
    workerType: string,
    ids: readonly string[],
    opts: MutationOptions = {},
  ): Promise<TagOutcome> {
    const settled = await this.settleInBatches(ids, BATCH.tag, TAGGABLE_IDS, async (batch) => {
      await this.client(region).send(
        new CreateTagsCommand({ Resources: batch, Tags: resourceTags(this.config.managerId, workerType) }),
        fence(opts),
      );
      return batch;
    });
    return { tagged: settled.results, unknown: [...settled.unknown, ...settled.malformed] };
  }

  /**
   * RunInstances for one instance, tagged at launch (instance, volumes, spot request), terminating
   * itself when shut down from inside (SPEC §6.3b), idempotent through the ClientToken.
   */
  async runInstances(region: string, launch: InstanceLaunch, opts: LaunchOptions = {}): Promise<OurInstance[]> {
    this.assertOurKey(launch.workerType, launch.spec.KeyName);
    const { AddressingType: _deprecated, ...spec } = launch.spec;
    const tags = resourceTags(this.config.managerId, launch.workerType);
    const input: RunInstancesCommandInput = {
      ...spec,
      MinCount: 1,
      MaxCount: 1,
      ClientToken: launch.clientToken,
      InstanceInitiatedShutdownBehavior: 'terminate',
      TagSpecifications: [
        { ResourceType: 'instance', Tags: tags },
        { ResourceType: 'volume', Tags: tags },
        ...(launch.spot ? [{ ResourceType: 'spot-instances-request' as const, Tags: tags }] : []),
      ],
      InstanceMarketOptions: launch.spot
        ? {
            MarketType: 'spot',
            SpotOptions: {
              MaxPrice: launch.spot.maxPrice,
              SpotInstanceType: 'one-time',
              InstanceInterruptionBehavior: 'terminate',
            },
          }
        : undefined,
    };
    if (opts.dryRun) {
      await dryRun(region, this.client(region).send(new RunInstancesCommand({ ...input, DryRun: true }), fence(opts)));
      return [];
    }
    const out = await this.client(region).send(new RunInstancesCommand(input), fence(opts));
    return (out.Instances ?? []).flatMap((i) => ourInstance(region, i, this.config.managerId) ?? []);
  }

  /**
   * RequestSpotInstances for one one-time instance, the request tagged at creation. A spot request's
   * launch specification has no InstanceInitiatedShutdownBehavior: an instance it launches that stops
   * itself is found and terminated by housekeeping (SPEC §6.3b).
   */
  async requestSpotInstances(
    region: string,
    launch: SpotRequestLaunch,
    opts: LaunchOptions = {},
  ): Promise<OurSpotRequest[]> {
    this.assertOurKey(launch.workerType, launch.spec.KeyName);
    const input = {
      ClientToken: launch.clientToken,
      SpotPrice: launch.spotPrice,
      InstanceCount: 1,
      Type: 'one-time' as const,
      LaunchSpecification: launch.spec,
      TagSpecifications: [
        {
          ResourceType: 'spot-instances-request' as const,
          Tags: resourceTags(this.config.managerId, launch.workerType),
        },
      ],
    };
    if (opts.dryRun) {
      await dryRun(
        region,
        this.client(region).send(new RequestSpotInstancesCommand({ ...input, DryRun: true }), fence(opts)),
      );
      return [];
    }
    const out = await this.client(region).send(new RequestSpotInstancesCommand(input), fence(opts));
    return (out.SpotInstanceRequests ?? []).flatMap((r) => ourSpotRequest(region, r, this.config.managerId) ?? []);
  }

  // ---- key pairs ----

  /** Imports the worker type's key pair (SPEC §2) unless it is there; a concurrent import counts as present. */
  async ensureKeyPair(region: string, workerType: string, opts: MutationOptions = {}): Promise<'imported' | 'present'> {
    const name = keyPairNameFor(this.config, workerType);
    if (await this.keyPairExists(region, name)) return 'present';
    try {
      await this.client(region).send(
        new ImportKeyPairCommand({
          KeyName: name,
          PublicKeyMaterial: new TextEncoder().encode(this.config.instancePubkey),
          TagSpecifications: [{ ResourceType: 'key-pair', Tags: resourceTags(this.config.managerId, workerType) }],
        }),
        fence(opts),
      );
      return 'imported';
    } catch (err) {
      if (hasAwsErrorCode(err, 'InvalidKeyPair.Duplicate')) return 'present';
      throw err;
    }
  }

  /** Deletes the worker type's key pair where it exists. */
  async deleteKeyPair(region: string, workerType: string, opts: MutationOptions = {}): Promise<'deleted' | 'absent'> {
    const name = keyPairNameFor(this.config, workerType);
    if (!(await this.keyPairExists(region, name))) return 'absent';
    await this.client(region).send(new DeleteKeyPairCommand({ KeyName: name }), fence(opts));
    return 'deleted';
  }

  // ---- the market ----

  async availableZones(region: string): Promise<string[]> {
    const out = await this.client(region).send(
      new DescribeAvailabilityZonesCommand({ Filters: [{ Name: 'state', Values: ['available'] }] }),
    );
    return (out.AvailabilityZones ?? []).flatMap((z) => z.ZoneName ?? []);
  }

  /** Every page of the Linux/UNIX spot price history between two times. */
  async spotPriceHistory(region: string, window: { start: Date; end: Date }): Promise<SpotPricePoint[]> {
    const points: SpotPricePoint[] = [];
    for await (const page of paginateDescribeSpotPriceHistory(
      { client: this.client(region), pageSize: BATCH.page },
      { ProductDescriptions: ['Linux/UNIX'], StartTime: window.start, EndTime: window.end },
    )) {
      for (const p of page.SpotPriceHistory ?? []) {
        const price = Number(p.SpotPrice);
        if (!p.AvailabilityZone || !p.InstanceType || !Number.isFinite(price)) continue;
        points.push({
          zone: p.AvailabilityZone,
          instanceType: p.InstanceType,
          price,
          timestamp: p.Timestamp ?? window.end,
        });
      }
    }
    return points;
  }

  // ---- how ----

  private client(region: string): EC2Client {
    return this.clients.client(region);
  }

  private assertOurKey(workerType: string, keyName: string): void {
    if (ownedWorkerType(keyName, this.config.managerId) !== workerType) {
      throw new Error(`refusing to launch with key ${keyName}: not a key pair of worker type ${workerType}`);
    }
  }

  private async settleInBatches<T>(
    ids: readonly string[],
    size: number,
    refusals: typeof INSTANCE_IDS,
    call: (ids: string[]) => Promise<T[]>,
  ): Promise<{ results: T[]; unknown: string[]; malformed: string[] }> {
    const all = { results: [] as T[], unknown: [] as string[], malformed: [] as string[] };
    for (const batch of chunk([...new Set(ids)], size)) {
      const settled = await settleIds(batch, refusals, call);
      all.results.push(...settled.results);
      all.unknown.push(...settled.unknown);
      all.malformed.push(...settled.malformed);
    }
    return all;
  }

  /**
   * Instances matching the filters, every page. Only ours come back, unless `all` asks for the
   * foreign ones too (as ids, to say "not ours" rather than "unknown").
   */
  private async instancesWhere(region: string, filters: Filter[]): Promise<OurInstance[]>;
  private async instancesWhere(
    region: string,
    filters: Filter[],
    opts: { all: true },
  ): Promise<{ ours: OurInstance[]; seen: string[] }>;
  private async instancesWhere(
    region: string,
    filters: Filter[],
    opts?: { all: true },
  ): Promise<OurInstance[] | { ours: OurInstance[]; seen: string[] }> {
    const ours: OurInstance[] = [];
    const seen: string[] = [];
    for await (const page of paginateDescribeInstances(
      { client: this.client(region), pageSize: BATCH.page },
      { Filters: filters },
    )) {
      for (const instance of (page.Reservations ?? []).flatMap((r) => r.Instances ?? [])) {
        if (instance.InstanceId) seen.push(instance.InstanceId);
        const mine = ourInstance(region, instance, this.config.managerId);
        if (mine) ours.push(mine);
      }
    }
    return opts?.all ? { ours, seen } : ours;
  }

  private async spotRequestsWhere(region: string, filters: Filter[]): Promise<OurSpotRequest[]>;
  private async spotRequestsWhere(
    region: string,
    filters: Filter[],
    opts: { all: true },
  ): Promise<{ ours: OurSpotRequest[]; seen: string[] }>;
  private async spotRequestsWhere(
    region: string,
    filters: Filter[],
    opts?: { all: true },
  ): Promise<OurSpotRequest[] | { ours: OurSpotRequest[]; seen: string[] }> {
    const ours: OurSpotRequest[] = [];
    const seen: string[] = [];
    for await (const page of paginateDescribeSpotInstanceRequests(
      { client: this.client(region), pageSize: BATCH.page },
      { Filters: filters },
    )) {
      for (const request of page.SpotInstanceRequests ?? []) {
        if (request.SpotInstanceRequestId) seen.push(request.SpotInstanceRequestId);
        const mine = ourSpotRequest(region, request, this.config.managerId);
        if (mine) ours.push(mine);
      }
    }
    return opts?.all ? { ours, seen } : ours;
  }

  private async describeByIds<T extends { id: string }>(
    region: string,
    ids: readonly string[],
    size: number,
    filterName: string,
    describe: (filters: Filter[]) => Promise<{ ours: T[]; seen: string[] }>,
  ): Promise<Described<T>> {
    const out: Described<T> = { ours: [], foreign: [], unknown: [] };
    // A filter value is a pattern (`*`, `?`): an id holding one would match what it does not name.
    const exact = [...new Set(ids)].filter((id) => /^[a-z]+-[0-9a-zA-Z]+$/.test(id));
    out.unknown.push(...[...new Set(ids)].filter((id) => !exact.includes(id)));
    for (const batch of chunk(exact, size)) {
      const { ours, seen } = await describe([{ Name: filterName, Values: batch }]);
      const wanted = new Set(batch);
      const mine = ours.filter((o) => wanted.has(o.id));
      const ourIds = new Set(mine.map((o) => o.id));
      const seenIds = new Set(seen);
      out.ours.push(...mine);
      out.foreign.push(...batch.filter((id) => seenIds.has(id) && !ourIds.has(id)));
      out.unknown.push(...batch.filter((id) => !seenIds.has(id)));
    }
    return out;
  }

  private async keyPairExists(region: string, name: string): Promise<boolean> {
    const out = await this.client(region).send(
      new DescribeKeyPairsCommand({ Filters: [{ Name: 'key-name', Values: [name] }] }),
    );
    return (out.KeyPairs ?? []).some((k) => k.KeyName === name);
  }
}

/**
 * The send options of a mutation: refuses (throws) when its run was fenced, and hands the signal to the
 * SDK, which then aborts the request, its retries and its rate-limit wait as soon as it fires.
 */
export function fence(opts: MutationOptions): { abortSignal?: AbortSignal } {
  opts.signal?.throwIfAborted();
  return { abortSignal: opts.signal };
}

/** A dry run that would have succeeded answers DryRunOperation; any other answer is EC2's refusal. */
export async function dryRun(region: string, call: Promise<unknown>): Promise<void> {
  try {
    await call;
  } catch (err) {
    if (awsErrorCode(err) === 'DryRunOperation') return;
    throw err;
  }
  throw new Error(`${region}: EC2 answered a DryRun without DryRunOperation`);
}

/** A DryRun probe: DryRunOperation means EC2 knows the id, a NotFound or Malformed refusal that it does not. */
async function known(refusals: IdRefusals, call: Promise<unknown>): Promise<boolean> {
  try {
    await call;
  } catch (err) {
    const code = awsErrorCode(err) ?? '';
    if (code === 'DryRunOperation') return true;
    if (refusals.notFound.includes(code) || refusals.malformed.includes(code)) return false;
    throw err;
  }
  throw new Error('EC2 answered a DryRun without DryRunOperation');
}
