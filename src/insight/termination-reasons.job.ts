import { BeforeApplicationShutdown, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { JobRunner } from '../common/job-runner';
import { AppConfig } from '../config/app-config';
import { Metrics } from '../metrics/metrics.service';
import { JobRunRepository } from '../state/job-run.repository';
import { LeaderLock } from '../state/leader-lock.service';
import { TerminationReasons, TerminationReasonsOutcome } from './termination-reasons.service';

/** Asks EC2 why instances ended every TERMINATION_REASONS_SECONDS on the leader (SPEC §12); only delegates. */
@Injectable()
export class TerminationReasonsJob implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly runner: JobRunner<TerminationReasonsOutcome>;

  constructor(
    private readonly config: AppConfig,
    private readonly registry: SchedulerRegistry,
    leader: LeaderLock,
    runs: JobRunRepository,
    metrics: Metrics,
    reasons: TerminationReasons,
  ) {
    this.runner = new JobRunner({
      name: 'termination-reasons',
      intervalSeconds: config.terminationReasonsSeconds,
      leader,
      runs,
      metrics,
      work: (signal) => reasons.runOnce(signal),
      summary: (o) => ({
        resolved: o.regions.reduce((n, r) => n + r.resolved, 0),
        unknown: o.regions.reduce((n, r) => n + r.unknown, 0),
        notEnded: o.regions.reduce((n, r) => n + r.notEnded, 0),
        pruned: o.pruned,
      }),
    });
  }

  onApplicationBootstrap(): void {
    if (this.config.jobsEnabled.terminationReasons) this.runner.schedule(this.registry);
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.runner.stop();
  }
}
