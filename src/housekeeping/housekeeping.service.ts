import {
  CreateTagsCommand,
  Instance as Ec2Instance,
  paginateDescribeInstances,
  paginateDescribeSpotInstanceRequests,
  paginateDescribeVolumes,
  SpotInstanceRequest,
  Tag,
  TerminateInstancesCommand,
  Volume,
} from '@aws-sdk/client-ec2';
import { Injectable, Logger } from '@nestjs/common';
import { AwsClients } from '../aws/aws-clients.service';
import { awsErrorFields, hasAwsErrorCode } from '../aws/aws-error';
import { hasResourceTags, ownKeyNameFilter, resourceTags } from '../aws/naming';
import { chunk } from '../common/chunk';
import { toInstanceRow, toSpotRequestRow } from '../common/ec2-rows';
import { AppConfig } from '../config/app-config';
import { Metrics } from '../metrics/metrics.service';
import { isWaiting, SpotPoller } from '../spot-poller/spot-poller.service';
import { HousekeepingOutcome } from '../state/entities';
import { HousekeepingRepository } from '../state/housekeeping.repository';
import { InstanceRepository, NewInstance } from '../state/instance.repository';
import { NewSpotRequest } from '../state/spot-request.repository';
import { EbsTotals, UsageRepository } from '../state/usage.repository';

/** Ids per TerminateInstances call. */
const TERMINATE_BATCH = 100;
/** Ids per CreateTags call (EC2 takes up to 1000). */
const TAG_BATCH = 500;

export interface HousekeepingRunOutcome {
  regions: HousekeepingOutcome[];
}

export class HousekeepingError extends Error {
  constructor(readonly outcome: HousekeepingRunOutcome) {
    const failed = outcome.regions.filter((r) => r.error);
    super(`housekeeping failed in ${failed.map((r) => `${r.region} (${r.error})`).join(', ')}`);
  }
}

interface RegionScan {
  instances: Ec2Instance[];
  requests: SpotInstanceRequest[];
  volumes: Volume[];
}

/**
 * Housekeeping (SPEC §6): reconciles state with what EC2 says, region by region in parallel; kills
 * instances past their maximum lifetime; tags what is untagged; records EBS and AMI usage. Only
 * resources whose key name is ours are ever touched.
 */
@Injectable()
export class HousekeepingService {
  private readonly log = new Logger(HousekeepingService.name);

  constructor(
    private readonly config: AppConfig,
    private readonly aws: AwsClients,
    private readonly repo: HousekeepingRepository,
    private readonly instances: InstanceRepository,
    private readonly usage: UsageRepository,
    private readonly metrics: Metrics,
    private readonly poller: SpotPoller,
  ) {}

  /**
   * One sweep of every region; throws HousekeepingError (once all are done) if any region failed.
   * Once `signal` aborts (the run was fenced, SPEC §9), no EC2 mutation and no state write of it
   * happens: the sweep rejects with the signal's reason.
   */
  async runOnce(signal?: AbortSignal): Promise<HousekeepingRunOutcome> {
    const regions = await Promise.all(this.config.regions.map((region) => this.sweepRegion(region, signal)));
    const outcome = { regions };
    if (regions.some((r) => r.error)) throw new HousekeepingError(outcome);
    return outcome;
  }

  /**
   * Sweeps one region; never throws but when fenced: a failure is in the outcome's `error`, beside what
   * was done before it.
   */
  async sweepRegion(region: string, signal?: AbortSignal): Promise<HousekeepingOutcome> {
    const started = new Date();
    const phases: Record<string, number> = {};
    const outcome: HousekeepingOutcome = {
      region,
      started,
      finished: started,
      durationMs: 0,
      missingInstances: 0,
      missingSpotRequests: 0,
      extraneousInstances: 0,
      extraneousSpotRequests: 0,
      correctedInstances: 0,
      zombiesKilled: 0,
      tagged: 0,
      error: null,
    };
    try {
      await this.sweep(region, outcome, phases, signal);
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      outcome.error = err instanceof Error ? err.message : String(err);
      this.log.error({ msg: 'housekeeping of region failed', region, ...awsErrorFields(err) });
    }
    outcome.finished = new Date();
    outcome.durationMs = outcome.finished.getTime() - started.getTime();
    await this.repo.saveOutcome(outcome).catch((err: unknown) => {
      this.log.error({ msg: 'cannot save housekeeping outcome', region, err: String(err) });
    });
    this.recordMetrics(outcome);
    this.log.log({ msg: 'housekeeping of region done', ...outcome, phasesMs: phases });
    return outcome;
  }

  /** `phases` gets the milliseconds each step took, for the log line (where a slow sweep spends its time). */
  private async sweep(
    region: string,
    outcome: HousekeepingOutcome,
    phases: Record<string, number>,
    signal?: AbortSignal,
  ): Promise<void> {
    const fence = (): void => signal?.throwIfAborted();
    let mark = Date.now();
    const lap = (phase: string): void => {
      const now = Date.now();
      phases[phase] = now - mark;
      mark = now;
    };
    const managerId = this.config.managerId;
    // Rows touched from here on raced the sweep: reconciliation leaves them alone.
    const sweep = { start: await this.repo.now(), describeLagGraceSeconds: this.config.describeLagGraceSeconds };
    const scan = await this.scan(region);
    lap('describe');

    const owned = scan.instances.flatMap((i) => {
      const row = toInstanceRow(region, i, managerId);
      return row ? [{ instance: i, row }] : [];
    });
    const requests = scan.requests.flatMap((r) => {
      const row = toSpotRequestRow(region, r, managerId);
      return row && r.State === 'open' ? [{ request: r, row }] : [];
    });

    fence();
    outcome.tagged = await this.tagUntagged(region, owned, requests, scan.volumes, signal);
    lap('tag');

    const cutoff = Date.now() - this.config.maxInstanceLifeHours * 3600_000;
    const zombies = owned.filter((o) => o.row.launched.getTime() < cutoff).map((o) => o.row);
    const killed = await this.terminate(region, zombies, signal);
    fence();
    await this.instances.removeMany(region, killed);
    outcome.zombiesKilled = killed.length;
    lap('zombies');

    const killedSet = new Set(killed);
    const live: NewInstance[] = owned.filter((o) => !killedSet.has(o.row.id)).map((o) => o.row);
    fence();
    const instanceCounts = await this.repo.reconcileInstances(region, live, sweep);
    outcome.missingInstances = instanceCounts.missing;
    outcome.correctedInstances = instanceCounts.corrected;
    outcome.extraneousInstances = instanceCounts.extraneous;

    // Open requests EC2 will never fulfil are cancelled, as the poller would; the poller only watches
    // waiting ones, so one found stuck outside state would otherwise sit open forever.
    const stuck = requests.filter((r) => !isWaiting(r.request.Status?.Code));
    if (stuck.length > 0) {
      fence();
      const { cancelled } = await this.poller.cancelStuck(
        region,
        stuck.map((r) => r.request),
      );
      this.log.warn({ msg: 'cancelled stuck spot requests', region, spotRequestIds: cancelled });
    }
    const requestRows: NewSpotRequest[] = requests.filter((r) => isWaiting(r.request.Status?.Code)).map((r) => r.row);
    fence();
    const requestCounts = await this.repo.reconcileSpotRequests(region, requestRows, sweep);
    outcome.missingSpotRequests = requestCounts.missing;
    outcome.extraneousSpotRequests = requestCounts.extraneous;
    lap('reconcile');

    fence();
    await this.usage.replaceEbsUsage(region, ebsTotals(scan.volumes));
    await this.usage.recordAmiUsage(
      region,
      owned.map((o) => o.row.imageId).filter((id) => id !== ''),
    );
    lap('usage');
  }

  /** Every page of our live instances, our open spot requests and the region's volumes. */
  private async scan(region: string): Promise<RegionScan> {
    const client = { client: this.aws.ec2(region), pageSize: 1000 };
    const keyFilter = ownKeyNameFilter(this.config.managerId);
    const collect = async <P, T>(pages: AsyncIterable<P>, items: (page: P) => T[] | undefined): Promise<T[]> => {
      const out: T[] = [];
      for await (const page of pages) for (const item of items(page) ?? []) out.push(item);
      return out;
    };
    const [instances, requests, volumes] = await Promise.all([
      collect(
        paginateDescribeInstances(client, {
          Filters: [
            { Name: 'key-name', Values: [keyFilter] },
            { Name: 'instance-state-name', Values: ['pending', 'running'] },
          ],
        }),
        (p) => (p.Reservations ?? []).flatMap((r) => r.Instances ?? []),
      ),
      collect(
        paginateDescribeSpotInstanceRequests(client, {
          Filters: [
            { Name: 'launch.key-name', Values: [keyFilter] },
            { Name: 'state', Values: ['open'] },
          ],
        }),
        (p) => p.SpotInstanceRequests,
      ),
      collect(paginateDescribeVolumes({ ...client, pageSize: 500 }, {}), (p) => p.Volumes),
    ]);
    return { instances, requests, volumes };
  }

  /**
   * Tags (SPEC §2) every instance, open spot request and attached volume of ours that lacks them,
   * one CreateTags call per worker type and batch. Returns how many resources were tagged.
   */
  private async tagUntagged(
    region: string,
    owned: { instance: Ec2Instance; row: NewInstance }[],
    requests: { request: SpotInstanceRequest; row: NewSpotRequest }[],
    volumes: Volume[],
    signal?: AbortSignal,
  ): Promise<number> {
    const managerId = this.config.managerId;
    const byWorkerType = new Map<string, string[]>();
    const add = (workerType: string, id: string, tags: Tag[] | undefined): void => {
      if (hasResourceTags(tags, managerId, workerType)) return;
      const ids = byWorkerType.get(workerType) ?? [];
      ids.push(id);
      byWorkerType.set(workerType, ids);
    };
    const workerTypeOf = new Map<string, string>();
    for (const { instance, row } of owned) {
      workerTypeOf.set(row.id, row.workerType);
      add(row.workerType, row.id, instance.Tags);
    }
    for (const { request, row } of requests) add(row.workerType, row.id, request.Tags);
    for (const v of volumes) {
      const attachedTo = v.Attachments?.find((a) => a.InstanceId && workerTypeOf.has(a.InstanceId))?.InstanceId;
      if (attachedTo && v.VolumeId) add(workerTypeOf.get(attachedTo)!, v.VolumeId, v.Tags);
    }
    let tagged = 0;
    for (const [workerType, ids] of byWorkerType) {
      for (const batch of chunk(ids, TAG_BATCH)) {
        await this.aws
          .ec2(region)
          .send(new CreateTagsCommand({ Resources: batch, Tags: resourceTags(managerId, workerType) }), {
            abortSignal: signal,
          });
        tagged += batch.length;
      }
    }
    if (tagged > 0) {
      this.log.log({ msg: 'tagged untagged resources', region, tagged, workerTypes: [...byWorkerType.keys()] });
    }
    return tagged;
  }

  /** Terminates zombies in batches; returns the ids EC2 no longer runs (terminated now or already gone). */
  private async terminate(region: string, zombies: NewInstance[], signal?: AbortSignal): Promise<string[]> {
    const done: string[] = [];
    for (const batch of chunk(
      zombies.map((z) => z.id),
      TERMINATE_BATCH,
    )) {
      try {
        signal?.throwIfAborted();
        const result = await this.aws
          .ec2(region)
          .send(new TerminateInstancesCommand({ InstanceIds: batch }), { abortSignal: signal });
        done.push(...(result.TerminatingInstances ?? []).flatMap((t) => t.InstanceId ?? []));
      } catch (err) {
        // One vanished instance fails the batch; whatever is unknown to EC2 is gone anyway.
        if (!hasAwsErrorCode(err, 'InvalidInstanceID.NotFound')) throw err;
        for (const id of batch) {
          try {
            signal?.throwIfAborted();
            await this.aws
              .ec2(region)
              .send(new TerminateInstancesCommand({ InstanceIds: [id] }), { abortSignal: signal });
          } catch (e) {
            if (!hasAwsErrorCode(e, 'InvalidInstanceID.NotFound')) throw e;
          }
          done.push(id);
        }
      }
    }
    if (zombies.length > 0) {
      const byId = new Map(zombies.map((z) => [z.id, z]));
      for (const id of done) {
        const z = byId.get(id);
        this.log.warn({
          msg: 'terminated zombie instance',
          region,
          instanceId: id,
          workerType: z?.workerType,
          launched: z?.launched,
        });
      }
    }
    return done;
  }

  private recordMetrics(o: HousekeepingOutcome): void {
    const m = this.metrics;
    m.zombiesKilled.inc({ region: o.region }, o.zombiesKilled);
    m.housekeepingMissing.inc({ region: o.region, kind: 'instance' }, o.missingInstances);
    m.housekeepingMissing.inc({ region: o.region, kind: 'spot-request' }, o.missingSpotRequests);
    m.housekeepingExtraneous.inc({ region: o.region, kind: 'instance' }, o.extraneousInstances);
    m.housekeepingCorrected.inc({ region: o.region }, o.correctedInstances);
    m.housekeepingExtraneous.inc({ region: o.region, kind: 'spot-request' }, o.extraneousSpotRequests);
  }
}

/** Count and GiB per volume type and state: `in-use` is active, `available` unused, the rest (creating, deleting...) left out. */
export function ebsTotals(volumes: Volume[]): EbsTotals[] {
  const totals = new Map<string, EbsTotals>();
  for (const v of volumes) {
    const state = v.State === 'in-use' ? 'active' : v.State === 'available' ? 'unused' : null;
    if (!state) continue;
    const volumeType = v.VolumeType ?? 'unknown';
    const key = `${volumeType}|${state}`;
    const t = totals.get(key) ?? { volumeType, state, totalCount: 0, totalGb: 0 };
    t.totalCount += 1;
    t.totalGb += v.Size ?? 0;
    totals.set(key, t);
  }
  return [...totals.values()];
}
