import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

const PREFIX = 'ec2_manager_';

/**
 * Every Prometheus metric of the service, on a registry of its own (so that two apps in one process,
 * as in the tests, never share counters). Modules increment these; `GET /metrics` renders them.
 */
@Injectable()
export class Metrics {
  readonly registry = new Registry();

  readonly eventsHandled = new Counter({
    name: `${PREFIX}events_handled_total`,
    help: 'EC2 events taken from SQS, by kind (detail-type) and outcome',
    labelNames: ['kind', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly eventsOutOfOrder = new Counter({
    name: `${PREFIX}events_out_of_order_total`,
    help: 'State-change events not newer than the state they would change (ignored)',
    registers: [this.registry],
  });
  readonly eventLagRedeliveries = new Counter({
    name: `${PREFIX}event_lag_redeliveries_total`,
    help: 'Events left on the queue because DescribeInstances did not know the instance yet',
    registers: [this.registry],
  });
  readonly eventsDeadLettered = new Counter({
    name: `${PREFIX}events_dead_lettered_total`,
    help: 'Messages taken from a dead-letter queue and reported',
    labelNames: ['region'] as const,
    registers: [this.registry],
  });

  readonly awsCalls = new Counter({
    name: `${PREFIX}aws_calls_total`,
    help: 'AWS API calls (after retries), by service, region, operation and outcome (success, not-found, dry-run, throttled, error; failed: no AWS answer)',
    labelNames: ['service', 'region', 'operation', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly awsCallDuration = new Histogram({
    name: `${PREFIX}aws_call_duration_seconds`,
    help: 'Duration of AWS API calls including retries and rate-limit waits',
    labelNames: ['service', 'region', 'operation'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly ec2Throttled = new Counter({
    name: `${PREFIX}ec2_throttled_total`,
    help: 'EC2 attempts answered RequestLimitExceeded, by region and rate-limit bucket',
    labelNames: ['region', 'bucket'] as const,
    registers: [this.registry],
  });
  readonly ec2RateLimitRefused = new Counter({
    name: `${PREFIX}ec2_rate_limit_refused_total`,
    help: 'EC2 calls of API requests refused (503) because they would have waited too long for the client-side rate limiter, by region and bucket',
    labelNames: ['region', 'bucket'] as const,
    registers: [this.registry],
  });
  readonly ec2RateLimitWait = new Counter({
    name: `${PREFIX}ec2_rate_limit_wait_seconds_total`,
    help: 'Time EC2 calls waited for the client-side rate limiter, by region and bucket',
    labelNames: ['region', 'bucket'] as const,
    registers: [this.registry],
  });

  readonly jobRuns = new Counter({
    name: `${PREFIX}job_runs_total`,
    help: 'Periodic job runs by job and outcome (ok, failed, skipped: another replica leads)',
    labelNames: ['job', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly jobDuration = new Histogram({
    name: `${PREFIX}job_duration_seconds`,
    help: 'Duration of periodic job runs',
    labelNames: ['job'] as const,
    buckets: [0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900],
    registers: [this.registry],
  });
  readonly zombiesKilled = new Counter({
    name: `${PREFIX}zombies_killed_total`,
    help: 'Instances terminated by housekeeping for exceeding their maximum lifetime',
    labelNames: ['region'] as const,
    registers: [this.registry],
  });
  readonly stoppedKilled = new Counter({
    name: `${PREFIX}stopped_killed_total`,
    help: 'Instances of ours found stopping or stopped by housekeeping and terminated (SPEC §6.3b)',
    labelNames: ['region'] as const,
    registers: [this.registry],
  });
  readonly housekeepingMissing = new Counter({
    name: `${PREFIX}housekeeping_missing_total`,
    help: 'Resources found in EC2 but not in state (added), by region and kind',
    labelNames: ['region', 'kind'] as const,
    registers: [this.registry],
  });
  readonly housekeepingCorrected = new Counter({
    name: `${PREFIX}housekeeping_corrected_total`,
    help: 'Instances whose state in state lagged EC2 (corrected), by region',
    labelNames: ['region'] as const,
    registers: [this.registry],
  });
  readonly housekeepingExtraneous = new Counter({
    name: `${PREFIX}housekeeping_extraneous_total`,
    help: 'Resources in state but no longer in EC2 (removed), by region and kind',
    labelNames: ['region', 'kind'] as const,
    registers: [this.registry],
  });

  readonly taggedResources = new Counter({
    name: `${PREFIX}tagged_resources_total`,
    help: 'Resources of ours given the tags of SPEC §2 after they were found untagged, by region and outcome (tagged; gone: EC2 no longer knows it, forgotten; retried: the call failed, tried again later)',
    labelNames: ['region', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly taggingDelay = new Histogram({
    name: `${PREFIX}tagging_delay_seconds`,
    help: 'Time from finding a resource untagged (its adoption) to its tags being put on, by region',
    labelNames: ['region'] as const,
    buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900],
    registers: [this.registry],
  });

  readonly httpRequests = new Counter({
    name: `${PREFIX}http_requests_total`,
    help: 'HTTP requests by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: `${PREFIX}http_request_duration_seconds`,
    help: 'HTTP request durations by method and route',
    labelNames: ['method', 'route'] as const,
    buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  constructor() {
    // Under their conventional names (process_*, nodejs_*), so stock Node.js dashboards work as they are.
    collectDefaultMetrics({ register: this.registry });
  }

  /** A gauge read from somewhere else at scrape time (e.g. counts in the database). */
  gauge<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    collect: (set: (labels: Record<L, string>, value: number) => void) => Promise<void>,
  ): Gauge<L> {
    return new Gauge<L>({
      name: `${PREFIX}${name}`,
      help,
      labelNames,
      registers: [this.registry],
      async collect() {
        this.reset();
        await collect((labels, value) => this.set(labels, value));
      },
    });
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
