import {
  CancelSpotInstanceRequestsCommand,
  paginateDescribeInstances,
  paginateDescribeSpotInstanceRequests,
  SpotInstanceRequest,
} from '@aws-sdk/client-ec2';
import { Injectable, Logger } from '@nestjs/common';
import { AwsClients } from '../aws/aws-clients.service';
import { awsErrorFields, hasAwsErrorCode } from '../aws/aws-error';
import { ownedWorkerType } from '../aws/naming';
import { AppConfig } from '../config/app-config';
import { NewCapacityCooldown, CapacityCooldownRepository } from '../state/capacity-cooldown.repository';
import { FailedSpotRequestRepository, NewFailedSpotRequest } from '../state/failed-spot-request.repository';
import { POLLED_SPOT_STATUSES, SpotRequest } from '../state/entities';
import { InstanceRepository, NewInstance } from '../state/instance.repository';
import { SpotRequestRepository } from '../state/spot-request.repository';
import { UsageRepository } from '../state/usage.repository';
import { chunk } from '../common/chunk';
import { toInstanceRow } from '../common/ec2-rows';

/** DescribeSpotInstanceRequests and CancelSpotInstanceRequests take at most this many ids (SPEC §5). */
export const SPOT_BATCH = 100;
const NOT_FOUND = 'InvalidSpotInstanceRequestID.NotFound';
/** Statuses that say EC2 has no room in the pool: the pool goes into a cooldown (SPEC §5). */
export const CAPACITY_STATUSES = ['capacity-not-available', 'capacity-oversubscribed'];

/** An open request with this status may still be fulfilled; any other open one never will be (SPEC §5). */
export function isWaiting(status: string | undefined): boolean {
  return (POLLED_SPOT_STATUSES as readonly string[]).includes(status ?? '');
}

export interface RegionPollOutcome {
  region: string;
  polled: number;
  /** Still waiting for capacity; status refreshed. */
  updated: number;
  /** Stuck on price, capacity, parameters...: cancelled in EC2 and removed from state. */
  cancelled: number;
  /** No longer open in EC2 (fulfilled, closed, cancelled elsewhere): removed from state. */
  removed: number;
  /** Fulfilled requests whose instance was brought into state. */
  adopted: number;
  /** Unknown to EC2 right now (its API lags); removed only once past the grace period. */
  unknown: number;
  removedUnknown: number;
  cooldowns: number;
  error?: string;
}

export interface SpotPollOutcome {
  regions: RegionPollOutcome[];
}

export class SpotPollError extends Error {
  constructor(readonly outcome: SpotPollOutcome) {
    const failed = outcome.regions.filter((r) => r.error);
    super(`spot poll failed in ${failed.map((r) => `${r.region} (${r.error})`).join(', ')}`);
  }
}

/** The spot request poller of SPEC §5: one pass over every region's open requests. */
@Injectable()
export class SpotPoller {
  private readonly log = new Logger(SpotPoller.name);
  /** When each request was first unknown to EC2 (`region|id` → ms). Only the leader polls, so memory will do: a new leader merely restarts the grace. */
  private readonly unknownSince = new Map<string, number>();

  constructor(
    private readonly config: AppConfig,
    private readonly aws: AwsClients,
    private readonly spotRequests: SpotRequestRepository,
    private readonly instances: InstanceRepository,
    private readonly cooldowns: CapacityCooldownRepository,
    private readonly failures: FailedSpotRequestRepository,
    private readonly usage: UsageRepository,
  ) {}

  /** Polls every region in parallel; throws SpotPollError (after all are done) if any region failed. */
  async pollOnce(): Promise<SpotPollOutcome> {
    const toPoll = await this.spotRequests.toPoll(this.config.regions);
    const regions = await Promise.all(
      toPoll.map(async ({ region, values }) => {
        try {
          return await this.pollRegion(region, values);
        } catch (err) {
          this.log.error({ msg: 'spot poll of region failed', region, ...awsErrorFields(err) });
          return { ...emptyOutcome(region, values.length), error: err instanceof Error ? err.message : String(err) };
        }
      }),
    );
    const outcome = { regions };
    if (regions.some((r) => r.error)) throw new SpotPollError(outcome);
    return outcome;
  }

  async pollRegion(region: string, ids: string[]): Promise<RegionPollOutcome> {
    const outcome = emptyOutcome(region, ids.length);
    if (ids.length === 0) return outcome;
    const rows = new Map((await this.spotRequests.list({ region, ids })).map((r) => [r.id, r]));
    const found: SpotInstanceRequest[] = [];
    const unknown: string[] = [];
    for (const batch of chunk(ids, SPOT_BATCH)) {
      const r = await this.describeBatch(region, batch);
      found.push(...r.found);
      unknown.push(...r.unknown);
    }

    const waiting: { id: string; state: string; status: string }[] = [];
    const toCancel: SpotInstanceRequest[] = [];
    const gone: SpotInstanceRequest[] = [];
    for (const request of found) {
      const state = request.State ?? '';
      const status = request.Status?.Code ?? '';
      if (state === 'open' && isWaiting(status)) {
        waiting.push({ id: request.SpotInstanceRequestId!, state, status });
      } else if (state === 'open') {
        toCancel.push(request);
      } else {
        gone.push(request);
      }
    }
    outcome.updated = await this.spotRequests.updateStatuses(region, waiting);
    const stuck = await this.cancelStuck(region, toCancel, rows);
    outcome.cancelled = stuck.cancelled.length;
    outcome.cooldowns = stuck.cooldowns;
    await this.forgetGone(region, gone, outcome);
    await this.handleUnknown(region, unknown, outcome);
    const stillUnknown = new Set(unknown);
    for (const key of this.unknownSince.keys()) {
      if (key.startsWith(`${region}|`) && !stillUnknown.has(key.slice(region.length + 1)))
        this.unknownSince.delete(key);
    }
    return outcome;
  }

  /**
   * Describes up to 100 requests. EC2 refuses the whole call when one id is unknown: the ids it
   * names are set aside and the rest asked again; when it names none of ours, the batch is split.
   */
  private async describeBatch(
    region: string,
    ids: string[],
  ): Promise<{ found: SpotInstanceRequest[]; unknown: string[] }> {
    if (ids.length === 0) return { found: [], unknown: [] };
    try {
      const found: SpotInstanceRequest[] = [];
      for await (const page of paginateDescribeSpotInstanceRequests(
        { client: this.aws.ec2(region) },
        { SpotInstanceRequestIds: ids },
      )) {
        found.push(...(page.SpotInstanceRequests ?? []));
      }
      return { found, unknown: [] };
    } catch (err) {
      if (!hasAwsErrorCode(err, NOT_FOUND)) throw err;
      if (ids.length === 1) return { found: [], unknown: ids };
      const named = ids.filter((id) => (err as Error).message.includes(id));
      if (named.length > 0) {
        const rest = await this.describeBatch(
          region,
          ids.filter((id) => !named.includes(id)),
        );
        return { found: rest.found, unknown: [...named, ...rest.unknown] };
      }
      const half = Math.ceil(ids.length / 2);
      const [a, b] = await Promise.all([
        this.describeBatch(region, ids.slice(0, half)),
        this.describeBatch(region, ids.slice(half)),
      ]);
      return { found: [...a.found, ...b.found], unknown: [...a.unknown, ...b.unknown] };
    }
  }

  /**
   * Cancels open requests EC2 will not fulfil, in batches; a request leaves state only once EC2
   * accepted its cancellation, and a capacity failure puts its pool in a cooldown. Housekeeping uses
   * it too, for stuck requests of ours it finds outside state. Returns the ids cancelled.
   */
  async cancelStuck(
    region: string,
    requests: SpotInstanceRequest[],
    rows: Map<string, SpotRequest> = new Map(),
  ): Promise<{ cancelled: string[]; cooldowns: number }> {
    const all: string[] = [];
    const cooldowns: NewCapacityCooldown[] = [];
    for (const batch of chunk(requests, SPOT_BATCH)) {
      const ids = batch.map((r) => r.SpotInstanceRequestId!);
      let cancelled: string[];
      try {
        const result = await this.aws
          .ec2(region)
          .send(new CancelSpotInstanceRequestsCommand({ SpotInstanceRequestIds: ids }));
        cancelled = (result.CancelledSpotInstanceRequests ?? []).flatMap((c) => c.SpotInstanceRequestId ?? []);
      } catch (err) {
        if (!hasAwsErrorCode(err, NOT_FOUND)) throw err;
        // One unknown id fails the batch: cancel one by one; the unknown ones are gone anyway.
        cancelled = [];
        for (const id of ids) {
          try {
            await this.aws.ec2(region).send(new CancelSpotInstanceRequestsCommand({ SpotInstanceRequestIds: [id] }));
            cancelled.push(id);
          } catch (e) {
            if (!hasAwsErrorCode(e, NOT_FOUND)) throw e;
            cancelled.push(id);
          }
        }
      }
      const done = new Set(cancelled);
      const given = batch
        .filter((r) => done.has(r.SpotInstanceRequestId!))
        .flatMap((r) => this.failure(region, r, rows));
      await this.spotRequests.removeMany(region, cancelled);
      await this.failures.record(given);
      all.push(...cancelled);
      for (const f of given) {
        this.log.log({ msg: 'cancelled spot request', region, spotRequestId: f.id, status: f.status });
        if (CAPACITY_STATUSES.includes(f.status)) {
          cooldowns.push({
            region,
            az: f.az || '*',
            instanceType: f.instanceType || 'unknown',
            reason: f.status,
            workerType: f.workerType,
            spotRequestId: f.id,
          });
        }
      }
    }
    if (cooldowns.length > 0) {
      await this.cooldowns.record(cooldowns, this.config.capacityCooldownSeconds);
      this.log.warn({
        msg: 'spot pools in capacity cooldown',
        region,
        pools: cooldowns.map((c) => `${c.az}/${c.instanceType}`),
      });
    }
    return { cancelled: all, cooldowns: cooldowns.length };
  }

  /**
   * Requests no longer open leave state. A fulfilled one's instance is brought in at once (it would
   * arrive through events too; upserting it also removes the request, in one transaction).
   */
  private async forgetGone(region: string, requests: SpotInstanceRequest[], outcome: RegionPollOutcome): Promise<void> {
    const instanceIds = requests.flatMap((r) => (r.State === 'active' && r.InstanceId ? [r.InstanceId] : []));
    const adopted = instanceIds.length > 0 ? await this.adopt(region, instanceIds) : [];
    outcome.adopted = adopted.length;
    await this.failures.record(requests.filter((r) => r.State === 'failed').flatMap((r) => this.failure(region, r)));
    // Upserting an adopted instance already removed its request; the rest go here. Either way all are gone.
    await this.spotRequests.removeMany(
      region,
      requests.map((r) => r.SpotInstanceRequestId!),
    );
    outcome.removed = requests.length;
    if (requests.length > 0) {
      this.log.log({
        msg: "spot requests left EC2's open set",
        region,
        removed: outcome.removed,
        adopted: adopted.length,
      });
    }
  }

  /** A request given up on, for workerTypeHealth; none when it is not ours. */
  private failure(
    region: string,
    request: SpotInstanceRequest,
    rows?: Map<string, SpotRequest>,
  ): NewFailedSpotRequest[] {
    const id = request.SpotInstanceRequestId!;
    const row = rows?.get(id);
    const spec = request.LaunchSpecification;
    const workerType = row?.workerType ?? ownedWorkerType(spec?.KeyName, this.config.managerId);
    if (!workerType) return [];
    return [
      {
        region,
        id,
        workerType,
        az: row?.az || spec?.Placement?.AvailabilityZone || request.LaunchedAvailabilityZone || '',
        instanceType: row?.instanceType ?? spec?.InstanceType ?? '',
        state: request.State ?? '',
        status: request.Status?.Code ?? '',
      },
    ];
  }

  private async adopt(region: string, instanceIds: string[]): Promise<NewInstance[]> {
    const rows: NewInstance[] = [];
    for (const batch of chunk(instanceIds, SPOT_BATCH)) {
      try {
        for await (const page of paginateDescribeInstances({ client: this.aws.ec2(region) }, { InstanceIds: batch })) {
          for (const instance of (page.Reservations ?? []).flatMap((r) => r.Instances ?? [])) {
            const row = toInstanceRow(region, instance, this.config.managerId);
            if (row) rows.push(row);
          }
        }
      } catch (err) {
        // EC2's API may not show a new instance yet: its state-change events will bring it.
        if (!hasAwsErrorCode(err, 'InvalidInstanceID.NotFound')) throw err;
        this.log.debug({ msg: 'fulfilled instances not described yet', region, instanceIds: batch });
      }
    }
    await this.instances.upsertMany(rows);
    // Adopting an instance is a use of its image (SPEC §3).
    await this.usage.recordAmiUsage(
      region,
      rows.map((r) => r.imageId).filter((id) => id !== ''),
    );
    return rows;
  }

  private async handleUnknown(region: string, ids: string[], outcome: RegionPollOutcome): Promise<void> {
    outcome.unknown = ids.length;
    if (ids.length === 0) return;
    const now = Date.now();
    const graceMs = this.config.spotNotFoundGraceSeconds * 1000;
    const expired: string[] = [];
    for (const id of ids) {
      const key = `${region}|${id}`;
      const since = this.unknownSince.get(key) ?? now;
      this.unknownSince.set(key, since);
      if (now - since >= graceMs) expired.push(id);
    }
    outcome.removedUnknown = await this.spotRequests.removeMany(region, expired);
    for (const id of expired) this.unknownSince.delete(`${region}|${id}`);
    this.log.warn({ msg: 'spot requests unknown to EC2', region, spotRequestIds: ids, removed: expired });
  }
}

function emptyOutcome(region: string, polled: number): RegionPollOutcome {
  return {
    region,
    polled,
    updated: 0,
    cancelled: 0,
    removed: 0,
    adopted: 0,
    unknown: 0,
    removedUnknown: 0,
    cooldowns: 0,
  };
}
