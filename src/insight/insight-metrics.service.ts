import { Injectable, OnModuleInit } from '@nestjs/common';
import { AppConfig, JOB_NAMES } from '../config/app-config';
import { Metrics } from '../metrics/metrics.service';
import { CostRepository } from '../state/cost.repository';
import { LaunchHealthRepository } from '../state/launch-health.repository';
import { TerminationRepository } from '../state/termination.repository';
import { WorkerTypeRepository } from '../state/worker-type.repository';

/** The window of the "recent" gauges: long enough for a scrape every minute to see every change. */
const RECENT_MS = 3600_000;

/**
 * Operator insight as Prometheus gauges (SPEC §12), read from Postgres at scrape time: the same on every
 * replica (aggregate with `max`, not `sum`).
 */
@Injectable()
export class InsightMetrics implements OnModuleInit {
  constructor(
    private readonly config: AppConfig,
    private readonly metrics: Metrics,
    private readonly costs: CostRepository,
    private readonly terminations: TerminationRepository,
    private readonly workerTypes: WorkerTypeRepository,
    private readonly launchOutcomes: LaunchHealthRepository,
  ) {}

  onModuleInit(): void {
    const m = this.metrics;
    m.gauge(
      'job_interval_seconds',
      'Configured interval of each periodic job (a job not succeeding for twice this is failing)',
      ['job'],
      (set) => {
        for (const job of JOB_NAMES) set({ job }, this.config.job(job).everySeconds);
        return Promise.resolve();
      },
    );
    m.gauge(
      'worker_type_capacity',
      'Capacity of each worker type as workerTypeStats counts it: state pending (instances pending, spot requests ' +
        'open) or running, by kind (instance, spot-request)',
      ['worker_type', 'state', 'kind'],
      async (set) => {
        for (const r of await this.workerTypes.countsOfAll()) {
          set({ worker_type: r.workerType, state: r.bucket, kind: r.type }, r.count);
        }
      },
    );
    m.gauge(
      'worker_type_hourly_cost_dollars',
      "USD per hour of each worker type's instances in state, each at its pool's current spot or on-demand price",
      ['worker_type'],
      async (set) => {
        for (const r of await this.costs.ratesByWorkerType()) set({ worker_type: r.workerType }, r.rate);
      },
    );
    m.gauge(
      'recent_terminations',
      'Instances that left state in the last hour, by worker type and reason (see listTerminations)',
      ['worker_type', 'reason'],
      async (set) => {
        const since = new Date(Date.now() - RECENT_MS);
        for (const r of await this.terminations.countByWorkerTypeAndReason(since)) {
          set({ worker_type: r.workerType, reason: r.reason }, r.count);
        }
      },
    );
    m.gauge(
      'recent_launches',
      'Instances asked for in the last hour by worker type and launch outcome (success, insufficient-capacity, ' +
        'quota, throttled, invalid, error); see launchHealth',
      ['worker_type', 'outcome'],
      async (set) => {
        for (const r of await this.launchOutcomes.lastHourByWorkerType()) {
          set({ worker_type: r.workerType, outcome: r.outcome }, r.count);
        }
      },
    );
  }
}
