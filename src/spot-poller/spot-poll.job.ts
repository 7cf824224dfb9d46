import { BeforeApplicationShutdown, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { JobRunner } from '../common/job-runner';
import { AppConfig } from '../config/app-config';
import { Metrics } from '../metrics/metrics.service';
import { JobRunRepository } from '../state/job-run.repository';
import { LeaderLock } from '../state/leader-lock.service';
import { SpotPollOutcome, SpotPoller } from './spot-poller.service';

/** Runs the spot poller every SPOT_POLL_SECONDS on the leader (SPEC §5); only delegates. */
@Injectable()
export class SpotPollJob implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly runner: JobRunner<SpotPollOutcome>;

  constructor(
    private readonly config: AppConfig,
    private readonly registry: SchedulerRegistry,
    leader: LeaderLock,
    runs: JobRunRepository,
    metrics: Metrics,
    poller: SpotPoller,
  ) {
    this.runner = new JobRunner({
      name: 'spot-poll',
      intervalSeconds: config.spotPollSeconds,
      leader,
      runs,
      metrics,
      work: (signal) => poller.pollOnce(signal),
      summary: (o) => totals(o),
    });
  }

  onApplicationBootstrap(): void {
    if (this.config.jobsEnabled.spotPoll) this.runner.schedule(this.registry);
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.runner.stop();
  }
}

function totals(o: SpotPollOutcome): Record<string, number> {
  const sum: Record<string, number> = {};
  for (const r of o.regions) {
    for (const [k, v] of Object.entries(r)) if (typeof v === 'number') sum[k] = (sum[k] ?? 0) + v;
  }
  return sum;
}
