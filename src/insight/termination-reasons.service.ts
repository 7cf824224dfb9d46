import { Injectable, Logger } from '@nestjs/common';
import { awsErrorFields } from '../aws/aws-error';
import { AppConfig } from '../config/app-config';
import { Ec2Gateway } from '../ec2/ec2-gateway.service';
import { Job } from '../jobs/job.decorator';
import { LaunchHealthRepository } from '../state/launch-health.repository';
import { ResolvedTermination, TerminationRepository } from '../state/termination.repository';
import { reasonOfStateCode } from './state-reasons';

/** At most this many of a region's unresolved terminations are asked of EC2 per run (oldest first). */
const PER_REGION = 1000;
/**
 * EC2 shows an ended instance for about an hour; one it has not described for longer than this after
 * it ended never will be: its reason is `unknown`. Until then, "not known" may be EC2's lag.
 */
const FORGOTTEN_AFTER_MS = 2 * 3600_000;

export interface RegionReasonsOutcome {
  region: string;
  resolved: number;
  unknown: number;
  /** Left state but EC2 says they still run: not terminations (dropped). */
  notEnded: number;
  error?: string;
}

export interface TerminationReasonsOutcome {
  regions: RegionReasonsOutcome[];
  /** Terminations and launch outcomes past HISTORY_RETENTION_DAYS, forgotten. */
  pruned: number;
}

export class TerminationReasonsError extends Error {
  constructor(readonly outcome: TerminationReasonsOutcome) {
    const failed = outcome.regions.filter((r) => r.error);
    super(
      `termination reasons failed in ${failed.map((r) => `${r.region} (${r.error})`).join(', ')}; retried next run`,
    );
  }
}

/**
 * Asks EC2 why instances ended (SPEC §12): the terminations recorded `unresolved` when they left
 * state, batched per region through the gateway. Off the event path: EC2 being unreachable delays the
 * reasons (they stay `unresolved`, retried on the next run) and never an event. Also prunes
 * terminations and launch outcomes past the retention window.
 */
@Injectable()
export class TerminationReasons {
  private readonly log = new Logger(TerminationReasons.name);

  constructor(
    private readonly config: AppConfig,
    private readonly ec2: Ec2Gateway,
    private readonly terminations: TerminationRepository,
    private readonly launchOutcomes: LaunchHealthRepository,
  ) {}

  /** Once `signal` aborts (the run was fenced, SPEC §9), nothing more is written. */
  @Job('termination-reasons', { summary: totals })
  async runOnce(signal?: AbortSignal): Promise<TerminationReasonsOutcome> {
    const regions = (await this.terminations.unresolvedRegions()).filter((r) => this.config.regions.includes(r));
    const outcomes = await Promise.all(regions.map((region) => this.resolveRegion(region, signal)));
    signal?.throwIfAborted();
    const before = new Date(Date.now() - this.config.historyRetentionDays * 86400_000);
    const pruned = (await this.terminations.prune(before)) + (await this.launchOutcomes.prune(before));
    const outcome = { regions: outcomes, pruned };
    if (outcomes.some((r) => r.error)) throw new TerminationReasonsError(outcome);
    return outcome;
  }

  private async resolveRegion(region: string, signal?: AbortSignal): Promise<RegionReasonsOutcome> {
    const outcome: RegionReasonsOutcome = { region, resolved: 0, unknown: 0, notEnded: 0 };
    try {
      const pending = await this.terminations.unresolved(region, PER_REGION);
      const described = await this.ec2.describeInstances(
        region,
        pending.map((p) => p.instanceId),
      );
      const verdicts: ResolvedTermination[] = [];
      const live: string[] = [];
      for (const i of described.ours) {
        if (i.row) live.push(i.id);
        else {
          verdicts.push({
            instanceId: i.id,
            reason: reasonOfStateCode(i.stateReason?.code),
            code: i.stateReason?.code ?? null,
            message: i.stateReason?.message ?? null,
          });
        }
      }
      const gone = new Set([...described.unknown, ...described.foreign]);
      const forgotten = Date.now() - FORGOTTEN_AFTER_MS;
      for (const p of pending) {
        if (gone.has(p.instanceId) && p.ended.getTime() < forgotten) {
          verdicts.push({ instanceId: p.instanceId, reason: 'unknown', code: null, message: null });
        }
      }
      signal?.throwIfAborted();
      outcome.resolved = await this.terminations.resolve(region, verdicts);
      outcome.unknown = verdicts.filter((v) => v.reason === 'unknown').length;
      outcome.notEnded = await this.terminations.discardUnresolved(region, live);
    } catch (err) {
      if (signal?.aborted) throw err;
      outcome.error = err instanceof Error ? err.message : String(err);
      this.log.warn({ msg: 'asking EC2 why instances ended failed; retried next run', region, ...awsErrorFields(err) });
    }
    return outcome;
  }
}

/** The run's counts over all regions, for its log line. */
function totals(o: TerminationReasonsOutcome): Record<string, number> {
  return {
    resolved: o.regions.reduce((n, r) => n + r.resolved, 0),
    unknown: o.regions.reduce((n, r) => n + r.unknown, 0),
    notEnded: o.regions.reduce((n, r) => n + r.notEnded, 0),
    pruned: o.pruned,
  };
}
