import { Injectable, Logger } from '@nestjs/common';
import { awsErrorFields } from '../aws/aws-error';
import { AppConfig } from '../config/app-config';
import { OurSpotRequest } from '../ec2/ec2-rows';
import { Ec2Gateway } from '../ec2/ec2-gateway.service';
import { Job } from '../jobs/job.decorator';
import { InstanceAdoption } from '../resources/instance-adoption.service';
import { GivenUp, isWaiting, SpotRequestService } from '../resources/spot-requests.service';
import { SpotRequest } from '../state/entities';
import { SpotRequestRepository } from '../state/spot-request.repository';

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
    private readonly ec2: Ec2Gateway,
    private readonly spotRequests: SpotRequestRepository,
    private readonly requestService: SpotRequestService,
    private readonly adoption: InstanceAdoption,
  ) {}

  /**
   * Polls every region in parallel; throws SpotPollError (after all are done) if any region failed.
   * Once `signal` aborts (the run was fenced), no EC2 mutation and no state write of it happens.
   */
  @Job('spot-poll', { summary: totals })
  async pollOnce(signal?: AbortSignal): Promise<SpotPollOutcome> {
    const toPoll = await this.spotRequests.toPoll(this.config.regions);
    const regions = await Promise.all(
      toPoll.map(async ({ region, values }) => {
        try {
          return await this.pollRegion(region, values, signal);
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

  async pollRegion(region: string, ids: string[], signal?: AbortSignal): Promise<RegionPollOutcome> {
    const outcome = emptyOutcome(region, ids.length);
    if (ids.length === 0) return outcome;
    const rows = new Map((await this.spotRequests.list({ region, ids })).map((r) => [r.id, r]));
    const described = await this.ec2.describeSpotRequests(region, ids);

    const waiting: { id: string; state: string; status: string }[] = [];
    const stuck: OurSpotRequest[] = [];
    const gone: OurSpotRequest[] = [];
    for (const request of described.ours) {
      if (request.state === 'open' && isWaiting(request.status)) {
        waiting.push({ id: request.id, state: request.state, status: request.status });
      } else if (request.state === 'open') {
        stuck.push(request);
      } else {
        gone.push(request);
      }
    }
    signal?.throwIfAborted();
    outcome.updated = await this.spotRequests.updateStatuses(region, waiting);
    const given = await this.requestService.giveUp(
      region,
      stuck.map((r) => givenUp(r, rows.get(r.id))),
      { signal },
    );
    outcome.cancelled = given.cancelled.length;
    outcome.cooldowns = given.cooldowns;
    await this.forgetGone(region, gone, described.foreign, rows, outcome, signal);
    await this.handleUnknown(region, described.unknown, outcome, signal);
    const stillUnknown = new Set(described.unknown);
    for (const key of this.unknownSince.keys()) {
      if (key.startsWith(`${region}|`) && !stillUnknown.has(key.slice(region.length + 1)))
        this.unknownSince.delete(key);
    }
    return outcome;
  }

  /**
   * Requests no longer open leave state. A fulfilled one's instance is adopted at once, as the event
   * listener would adopt it (its events would bring it too; adopting also forgets the request). A
   * request EC2 shows as not ours has no business in state either.
   */
  private async forgetGone(
    region: string,
    requests: OurSpotRequest[],
    foreign: string[],
    rows: Map<string, SpotRequest>,
    outcome: RegionPollOutcome,
    signal?: AbortSignal,
  ): Promise<void> {
    const fulfilled = requests.flatMap((r) => (r.state === 'active' && r.instanceId ? [r.instanceId] : []));
    const adopted = await Promise.all(
      fulfilled.map((id) => this.adoption.adopt(region, id, { why: 'spot request fulfilled', signal })),
    );
    outcome.adopted = adopted.filter((a) => a === 'added').length;
    await this.requestService.recordFailed(
      requests.filter((r) => r.state === 'failed').map((r) => givenUp(r, rows.get(r.id))),
      { signal },
    );
    signal?.throwIfAborted();
    const ids = [...requests.map((r) => r.id), ...foreign];
    await this.spotRequests.removeMany(region, ids);
    outcome.removed = ids.length;
    if (ids.length > 0) {
      this.log.log({ msg: "spot requests left EC2's open set", region, removed: ids.length, adopted: outcome.adopted });
    }
  }

  private async handleUnknown(
    region: string,
    ids: string[],
    outcome: RegionPollOutcome,
    signal?: AbortSignal,
  ): Promise<void> {
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
    signal?.throwIfAborted();
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

/** A request given up on, as workerTypeHealth shows it: what state knew of it, else what EC2 says. */
function givenUp(request: OurSpotRequest, row: SpotRequest | undefined): GivenUp {
  return {
    region: request.region,
    id: request.id,
    workerType: row?.workerType ?? request.workerType,
    az: row?.az || request.row.az,
    instanceType: row?.instanceType || request.row.instanceType,
    state: request.state,
    status: request.status,
  };
}

/** The run's counts over all regions, for its log line. */
function totals(o: SpotPollOutcome): Record<string, number> {
  const sum: Record<string, number> = {};
  for (const r of o.regions) {
    for (const [k, v] of Object.entries(r)) if (typeof v === 'number') sum[k] = (sum[k] ?? 0) + v;
  }
  return sum;
}
