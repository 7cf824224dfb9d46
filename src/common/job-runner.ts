import { Logger } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import * as Sentry from '@sentry/nestjs';
import { hostname } from 'node:os';
import { Metrics } from '../metrics/metrics.service';
import { JobRunRepository } from '../state/job-run.repository';
import { LeaderLock } from '../state/leader-lock.service';

/** What one tick did. */
export type TickResult =
  | 'ran'
  | 'failed'
  /** This replica's previous run is still going: runs never overlap. */
  | 'busy'
  /** Another replica holds the job's leader lock. */
  | 'not-leader'
  /** Another replica ran it less than most of an interval ago. */
  | 'recent'
  | 'stopped';

export interface JobRunRecord {
  started: Date;
  finished: Date;
  ok: boolean;
}

export interface JobRunnerOptions<T> {
  name: string;
  intervalSeconds: number;
  leader: LeaderLock;
  runs: JobRunRepository;
  metrics: Metrics;
  work: () => Promise<T>;
  /** Fields for the log line of a successful run. */
  summary: (result: T) => Record<string, unknown>;
}

/** Below this share of the interval since the last start (on any replica), a tick does not run again. */
const MIN_GAP_SHARE = 0.8;
const HISTORY = 100;
const RUNNER = `${hostname()}:${process.pid}`;

/**
 * Runs one periodic job (STYLE §9): a tick never overlaps the previous one, runs only on the replica
 * holding the job's leader lock (SPEC §9), is timed and logged, and reports a failure to Sentry
 * instead of throwing — a failed run never stops the schedule or the process.
 */
export class JobRunner<T> {
  /** This replica's recent runs, oldest first. */
  readonly history: JobRunRecord[] = [];
  private readonly log: Logger;
  private current: Promise<TickResult> | null = null;
  private stopped = false;

  constructor(private readonly options: JobRunnerOptions<T>) {
    this.log = new Logger(`Job:${options.name}`);
  }

  get name(): string {
    return this.options.name;
  }

  /**
   * One scheduled tick. `force` skips the "ran recently elsewhere" check (a run asked for by hand);
   * the leader lock is always taken. Never rejects.
   */
  tick(force = false): Promise<TickResult> {
    if (this.stopped) return Promise.resolve('stopped');
    if (this.current) return Promise.resolve('busy');
    const run = this.run(force).finally(() => {
      this.current = null;
    });
    this.current = run;
    return run;
  }

  /** Schedules ticks every interval, the first one right away, through Nest's registry. */
  schedule(registry: SchedulerRegistry): void {
    const tick = (): void => void this.tick();
    registry.addTimeout(`${this.name}:first`, setTimeout(tick, 0));
    registry.addInterval(this.name, setInterval(tick, this.options.intervalSeconds * 1000));
    this.log.log({ msg: 'scheduled', job: this.name, everySeconds: this.options.intervalSeconds });
  }

  /** No new ticks; waits for a run in progress (the database must outlive it). */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.current;
  }

  private async run(force: boolean): Promise<TickResult> {
    const { name, leader, runs, intervalSeconds, metrics } = this.options;
    let started: Date | undefined;
    try {
      const locked = await leader.withLock(name, async () => {
        if (!(await runs.start(name, RUNNER, force ? 0 : intervalSeconds * MIN_GAP_SHARE))) return 'recent' as const;
        // Timed and recorded inside the lock: the history shows when this replica really held the job.
        started = new Date();
        let ok = false;
        try {
          const result = await this.options.work();
          await runs.finish(name, true, null);
          ok = true;
          return result;
        } catch (err) {
          await runs.finish(name, false, errorMessage(err)).catch(() => undefined);
          throw err;
        } finally {
          this.history.push({ started, finished: new Date(), ok });
          if (this.history.length > HISTORY) this.history.shift();
        }
      });
      if (!locked.acquired || locked.result === 'recent') {
        metrics.jobRuns.inc({ job: name, outcome: 'skipped' });
        this.log.debug({ msg: 'skipped: another replica leads or ran it lately', job: name });
        return locked.acquired ? 'recent' : 'not-leader';
      }
      const ms = Date.now() - started!.getTime();
      metrics.jobRuns.inc({ job: name, outcome: 'ok' });
      metrics.jobDuration.observe({ job: name }, ms / 1000);
      this.log.log({ msg: `${name} done`, job: name, ms, ...this.options.summary(locked.result) });
      return 'ran';
    } catch (err) {
      const ms = started ? Date.now() - started.getTime() : undefined;
      this.log.error({ msg: `${name} failed`, job: name, ms, err: errorMessage(err) });
      Sentry.captureException(err, { tags: { job: name } });
      metrics.jobRuns.inc({ job: name, outcome: 'failed' });
      if (ms !== undefined) metrics.jobDuration.observe({ job: name }, ms / 1000);
      return 'failed';
    }
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
