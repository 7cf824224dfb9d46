import { Injectable, Logger } from '@nestjs/common';
import { awsErrorFields } from '../aws/aws-error';
import { AppConfig } from '../config/app-config';
import { OurInstance, OurSpotRequest } from '../ec2/ec2-rows';
import { Ec2Gateway, UNENDED_INSTANCE_STATES, VolumeView } from '../ec2/ec2-gateway.service';
import { hasResourceTags } from '../ec2/naming';
import { Job } from '../jobs/job.decorator';
import { Metrics } from '../metrics/metrics.service';
import { isWaiting, SpotRequestService } from '../resources/spot-requests.service';
import { TaggingService } from '../resources/tagging.service';
import { HousekeepingOutcome } from '../state/entities';
import { HistoryRepository } from '../state/history.repository';
import { HousekeepingRepository } from '../state/housekeeping.repository';
import { InstanceRepository, NewInstance } from '../state/instance.repository';
import { NewSpotRequest } from '../state/spot-request.repository';
import { Tx } from '../state/tx.service';
import { EbsTotals, UsageRepository } from '../state/usage.repository';
import { WorkerTypePolicyRepository } from '../state/worker-type-policy.repository';
import { LaunchTemplateRepository } from '../state/launch-template.repository';
import { Ec2FleetGateway } from '../ec2/fleet-gateway.service';

export interface HousekeepingRunOutcome {
  regions: HousekeepingOutcome[];
}

export class HousekeepingError extends Error {
  constructor(readonly outcome: HousekeepingRunOutcome) {
    const failed = outcome.regions.filter((r) => r.error);
    super(`housekeeping failed in ${failed.map((r) => `${r.region} (${r.error})`).join(', ')}`);
  }
}

/** A launch template of ours unused this long is deleted (SPEC §11). */
const LAUNCH_TEMPLATE_UNUSED_MS = 24 * 3600_000;

interface RegionScan {
  instances: OurInstance[];
  requests: OurSpotRequest[];
  volumes: VolumeView[];
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
    private readonly ec2: Ec2Gateway,
    private readonly repo: HousekeepingRepository,
    private readonly instances: InstanceRepository,
    private readonly usage: UsageRepository,
    private readonly metrics: Metrics,
    private readonly spotRequests: SpotRequestService,
    private readonly policies: WorkerTypePolicyRepository,
    private readonly fleets: Ec2FleetGateway,
    private readonly launchTemplates: LaunchTemplateRepository,
    private readonly history: HistoryRepository,
    private readonly tx: Tx,
    private readonly tagging: TaggingService,
  ) {}

  /**
   * One sweep of every region; throws HousekeepingError (once all are done) if any region failed.
   * Once `signal` aborts (the run was fenced, SPEC §9), no EC2 mutation and no state write of it
   * happens: the sweep rejects with the signal's reason.
   */
  @Job('housekeeping', { summary: totals })
  async runOnce(signal?: AbortSignal): Promise<HousekeepingRunOutcome> {
    const regions = await Promise.all(this.config.regions.map((region) => this.sweepRegion(region, signal)));
    await this.pruneHistory(signal);
    const outcome = { regions };
    if (regions.some((r) => r.error)) throw new HousekeepingError(outcome);
    return outcome;
  }

  /** History past HISTORY_RETENTION_DAYS goes (SPEC §9), once per sweep, whichever region failed. */
  private async pruneHistory(signal?: AbortSignal): Promise<void> {
    const retentionDays = this.config.historyRetentionDays;
    const pruned = await this.history.prune(retentionDays, () => signal?.throwIfAborted());
    if (pruned.cloudwatchLog > 0 || pruned.failedSpotRequests > 0) {
      this.log.log({ msg: 'history pruned', retentionDays, ...pruned });
    }
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
      stoppedKilled: 0,
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
      this.log.error({ msg: 'cannot save housekeeping outcome', region, err });
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
    // Rows touched from here on raced the sweep: reconciliation leaves them alone.
    const sweep = { start: await this.repo.now(), describeLagGraceSeconds: this.config.describeLagGraceSeconds };
    const scan = await this.scan(region);
    lap('describe');

    const live = scan.instances.filter((i) => i.row !== null);
    const open = scan.requests.filter((r) => r.state === 'open');

    outcome.tagged = await this.tagUntagged(region, scan, signal);
    lap('tag');

    const zombies = await this.zombies(region, live);
    const killed = await this.terminate(region, zombies, signal);
    fence();
    await this.tx.run((m) =>
      this.instances.removeWithCause(region, killed, { reason: 'zombie', instances: zombies }, m),
    );
    outcome.zombiesKilled = killed.length;
    lap('zombies');

    // Ours are never meant to stop (launches say InstanceInitiatedShutdownBehavior=terminate): one that
    // did bills its volumes while no count shows it. Tagged above, it is terminated now (SPEC §6.3b),
    // unless tagged do-not-disrupt (SPEC §11): left alone, but logged.
    const halted = scan.instances.filter((i) => i.state === 'stopping' || i.state === 'stopped');
    const stopped = halted.filter((i) => !i.doNotDisrupt);
    if (stopped.length < halted.length) {
      const spared = halted.filter((i) => i.doNotDisrupt).map((i) => i.id);
      this.log.warn({ msg: 'stopped instances spared: tagged do-not-disrupt', region, instanceIds: spared });
    }
    const stoppedKilled = await this.terminate(region, stopped, signal, 'stopped');
    fence();
    await this.tx.run((m) =>
      this.instances.removeWithCause(region, stoppedKilled, { reason: 'stopped', instances: stopped }, m),
    );
    outcome.stoppedKilled = stoppedKilled.length;
    lap('stopped');

    const killedSet = new Set(killed);
    const rows: NewInstance[] = live.filter((i) => !killedSet.has(i.id)).map((i) => i.row!);
    fence();
    const instanceCounts = await this.tx.run((m) => this.repo.reconcileInstances(region, rows, sweep, m));
    outcome.missingInstances = instanceCounts.missing;
    outcome.correctedInstances = instanceCounts.corrected;
    outcome.extraneousInstances = instanceCounts.extraneous;

    // Open requests EC2 will never fulfil are given up on, as the poller would; the poller only watches
    // waiting ones, so one found stuck outside state would otherwise sit open forever.
    const stuck = open.filter((r) => !isWaiting(r.status));
    if (stuck.length > 0) {
      const { cancelled } = await this.spotRequests.giveUp(
        region,
        stuck.map((r) => ({ ...r.row, state: r.state, status: r.status })),
        { signal },
      );
      this.log.warn({ msg: 'cancelled stuck spot requests', region, spotRequestIds: cancelled });
    }
    const requestRows: NewSpotRequest[] = open.filter((r) => isWaiting(r.status)).map((r) => r.row);
    fence();
    const requestCounts = await this.tx.run((m) => this.repo.reconcileSpotRequests(region, requestRows, sweep, m));
    outcome.missingSpotRequests = requestCounts.missing;
    outcome.extraneousSpotRequests = requestCounts.extraneous;
    lap('reconcile');

    fence();
    await this.tx.run(async (m) => {
      await this.usage.replaceEbsUsage(region, ebsTotals(scan.volumes), m);
      await this.usage.recordAmiUsage(
        region,
        live.map((i) => i.imageId).filter((id) => id !== ''),
        new Date(),
        m,
      );
    });
    lap('usage');

    await this.deleteUnusedLaunchTemplates(region, signal);
    lap('launch-templates');
  }

  /**
   * Deletes the launch templates of ours (SPEC §11) unused for a day: last used by a fleet launch (as
   * recorded), or created (by EC2's word) when no launch of ours recorded it. Only a template whose name
   * and key pair are both ours is ever listed, so one another team named like ours stays.
   */
  private async deleteUnusedLaunchTemplates(region: string, signal?: AbortSignal): Promise<void> {
    const startedAt = new Date();
    const cutoff = startedAt.getTime() - LAUNCH_TEMPLATE_UNUSED_MS;
    const [ours, lastUsed] = await Promise.all([
      this.fleets.ourLaunchTemplates(region),
      this.launchTemplates.lastUsed(region),
    ]);
    const unused = ours.filter((t) => (lastUsed.get(t.id) ?? t.created).getTime() < cutoff);
    if (unused.length === 0) return;
    const deleted = await this.fleets.deleteLaunchTemplates(region, unused, { signal });
    signal?.throwIfAborted();
    await this.launchTemplates.forget(region, deleted, startedAt);
    this.log.log({ msg: 'deleted unused launch templates', region, launchTemplateIds: deleted });
  }

  /**
   * Instances past their maximum lifetime: the worker type's own (policy) or MAX_INSTANCE_LIFE_HOURS.
   * One tagged do-not-disrupt is left alone, but logged: it is still on the bill.
   */
  private async zombies(region: string, live: OurInstance[]): Promise<OurInstance[]> {
    const lifeHours = new Map((await this.policies.withLifeHours()).map((p) => [p.workerType, p.maxInstanceLifeHours]));
    const now = Date.now();
    const old = live.filter(
      (i) => i.launched.getTime() < now - (lifeHours.get(i.workerType) ?? this.config.maxInstanceLifeHours) * 3600_000,
    );
    const spared = old.filter((i) => i.doNotDisrupt);
    if (spared.length > 0) {
      this.log.warn({ msg: 'zombies spared: tagged do-not-disrupt', region, instanceIds: spared.map((i) => i.id) });
    }
    return old.filter((i) => !i.doNotDisrupt);
  }

  /** Every page of our live instances, our open spot requests and the region's volumes. */
  private async scan(region: string): Promise<RegionScan> {
    const [instances, requests, volumes] = await Promise.all([
      this.ec2.ourInstances(region, UNENDED_INSTANCE_STATES),
      this.ec2.ourSpotRequests(region, ['open']),
      this.ec2.volumes(region),
    ]);
    return { instances, requests, volumes };
  }

  /**
   * Tags (SPEC §2) every instance, open spot request and attached volume of ours that lacks them,
   * grouped per worker type, the one way the service tags (which also forgets them from the tagger's
   * waiting list). Returns how many resources were tagged.
   */
  private async tagUntagged(region: string, scan: RegionScan, signal?: AbortSignal): Promise<number> {
    const managerId = this.config.managerId;
    const byWorkerType = new Map<string, string[]>();
    const add = (workerType: string, id: string): void => {
      const ids = byWorkerType.get(workerType) ?? [];
      ids.push(id);
      byWorkerType.set(workerType, ids);
    };
    const workerTypeOf = new Map<string, string>();
    for (const i of scan.instances) {
      workerTypeOf.set(i.id, i.workerType);
      if (!i.tagged) add(i.workerType, i.id);
    }
    for (const r of scan.requests) if (r.state === 'open' && !r.tagged) add(r.workerType, r.id);
    for (const v of scan.volumes) {
      // A volume is ours when it is attached to an instance of ours.
      const workerType = v.attachedInstanceIds.map((id) => workerTypeOf.get(id)).find((wt) => wt !== undefined);
      if (workerType && !hasResourceTags(v.tags, managerId, workerType)) add(workerType, v.id);
    }
    let tagged = 0;
    for (const [workerType, ids] of byWorkerType) {
      tagged += (await this.tagging.tag(region, workerType, ids, { signal })).tagged.length;
    }
    if (tagged > 0) {
      this.log.log({ msg: 'tagged untagged resources', region, tagged, workerTypes: [...byWorkerType.keys()] });
    }
    return tagged;
  }

  /**
   * Terminates zombies or stopped instances; returns the ids EC2 accepted (one it says it does not know
   * is not counted as done).
   */
  private async terminate(
    region: string,
    targets: OurInstance[],
    signal: AbortSignal | undefined,
    kind: 'zombie' | 'stopped' = 'zombie',
  ): Promise<string[]> {
    if (targets.length === 0) return [];
    const { terminated, unknown } = await this.ec2.terminateInstances(region, targets, { signal });
    const byId = new Map(targets.map((z) => [z.id, z]));
    for (const { id, previous } of terminated) {
      const z = byId.get(id);
      this.log.warn({
        msg: `terminated ${kind} instance`,
        region,
        instanceId: id,
        workerType: z?.workerType,
        launched: z?.launched,
        previous,
      });
    }
    if (unknown.length > 0) this.log.warn({ msg: `${kind} instances EC2 did not know`, region, instanceIds: unknown });
    return terminated.map((t) => t.id);
  }

  private recordMetrics(o: HousekeepingOutcome): void {
    const m = this.metrics;
    m.zombiesKilled.inc({ region: o.region }, o.zombiesKilled);
    m.stoppedKilled.inc({ region: o.region }, o.stoppedKilled);
    m.housekeepingMissing.inc({ region: o.region, kind: 'instance' }, o.missingInstances);
    m.housekeepingMissing.inc({ region: o.region, kind: 'spot-request' }, o.missingSpotRequests);
    m.housekeepingExtraneous.inc({ region: o.region, kind: 'instance' }, o.extraneousInstances);
    m.housekeepingCorrected.inc({ region: o.region }, o.correctedInstances);
    m.housekeepingExtraneous.inc({ region: o.region, kind: 'spot-request' }, o.extraneousSpotRequests);
  }
}

/** Count and GiB per volume type and state: `in-use` is active, `available` unused, the rest (creating, deleting...) left out. */
export function ebsTotals(volumes: VolumeView[]): EbsTotals[] {
  const totals = new Map<string, EbsTotals>();
  for (const v of volumes) {
    const state = v.state === 'in-use' ? 'active' : v.state === 'available' ? 'unused' : null;
    if (!state) continue;
    const volumeType = v.volumeType;
    const key = `${volumeType}|${state}`;
    const t = totals.get(key) ?? { volumeType, state, totalCount: 0, totalGb: 0 };
    t.totalCount += 1;
    t.totalGb += v.sizeGb;
    totals.set(key, t);
  }
  return [...totals.values()];
}

/** The run's counts over all regions, for its log line. */
function totals(o: HousekeepingRunOutcome): Record<string, number> {
  const sum = (key: Count): number => o.regions.reduce((n, r) => n + r[key], 0);
  return {
    regions: o.regions.length,
    zombiesKilled: sum('zombiesKilled'),
    stoppedKilled: sum('stoppedKilled'),
    missingInstances: sum('missingInstances'),
    extraneousInstances: sum('extraneousInstances'),
    correctedInstances: sum('correctedInstances'),
    missingSpotRequests: sum('missingSpotRequests'),
    extraneousSpotRequests: sum('extraneousSpotRequests'),
    tagged: sum('tagged'),
  };
}

type Count =
  | 'zombiesKilled'
  | 'stoppedKilled'
  | 'missingInstances'
  | 'extraneousInstances'
  | 'correctedInstances'
  | 'missingSpotRequests'
  | 'extraneousSpotRequests'
  | 'tagged';
