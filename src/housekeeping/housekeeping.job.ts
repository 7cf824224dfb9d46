import { BeforeApplicationShutdown, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { JobRunner } from '../common/job-runner';
import { AppConfig } from '../config/app-config';
import { Metrics } from '../metrics/metrics.service';
import { JobRunRepository } from '../state/job-run.repository';
import { LeaderLock } from '../state/leader-lock.service';
import { HousekeepingRunOutcome, HousekeepingService } from './housekeeping.service';

/** Runs housekeeping every HOUSEKEEPING_SECONDS on the leader (SPEC §6); only delegates. */
@Injectable()
export class HousekeepingJob implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly runner: JobRunner<HousekeepingRunOutcome>;

  constructor(
    private readonly config: AppConfig,
    private readonly registry: SchedulerRegistry,
    leader: LeaderLock,
    runs: JobRunRepository,
    metrics: Metrics,
    housekeeping: HousekeepingService,
  ) {
    this.runner = new JobRunner({
      name: 'housekeeping',
      intervalSeconds: config.housekeepingSeconds,
      leader,
      runs,
      metrics,
      work: (signal) => housekeeping.runOnce(signal),
      summary: (o) => ({
        regions: o.regions.length,
        zombiesKilled: sum(o, 'zombiesKilled'),
        missingInstances: sum(o, 'missingInstances'),
        extraneousInstances: sum(o, 'extraneousInstances'),
        correctedInstances: sum(o, 'correctedInstances'),
        missingSpotRequests: sum(o, 'missingSpotRequests'),
        extraneousSpotRequests: sum(o, 'extraneousSpotRequests'),
        tagged: sum(o, 'tagged'),
      }),
    });
  }

  onApplicationBootstrap(): void {
    if (this.config.jobsEnabled.housekeeping) this.runner.schedule(this.registry);
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.runner.stop();
  }
}

type Count =
  | 'zombiesKilled'
  | 'missingInstances'
  | 'extraneousInstances'
  | 'correctedInstances'
  | 'missingSpotRequests'
  | 'extraneousSpotRequests'
  | 'tagged';

function sum(o: HousekeepingRunOutcome, key: Count): number {
  return o.regions.reduce((n, r) => n + r[key], 0);
}
