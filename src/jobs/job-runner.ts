import { Logger } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { hostname } from 'node:os';
import { inBackground } from '../ec2/ec2-call-context';
import { Metrics } from '../metrics/metrics.service';
import { JobRunRepository } from '../state/job-run.repository';
import { LeaderLock, LeaderLockLostError } from '../state/leader-lock.service';
import { reportError } from '../logging/report';

/** What one tick did. */
export type TickResult =
  | 'ran'
  | 'failed'
  /** The leader lock was lost during the run: it was fenced (SPEC §9). */
  | 'aborted'
  /** This replica's previous run is still going: runs never overlap. */
  | 'busy'
  /** Another replica holds the job's leader lock. */
  | 'not-leader'
  /** Another replica finished a run that started less than most of an interval ago. */
  | 'recent'
  | 'stopped';

/** One pass as its caller sees it: how it ended and, when it ran, when, for how long and what it did. */
export interface JobPass {
  result: TickResult;
  started?: Date;
  ms?: number;
  /** The fields of the run's log line (what it did), for a run that finished. */
  summary?: Record<string, unknown>;
  /** Why a failed or aborted run stopped. */
  error?: string;
}

export interface JobRunRecord {
  started: Date;
  /** When the work returned; for an aborted run that may be well after the lock was lost. */
  finished: Date;
  ok: boolean;
  /** When the lock was lost, for a fenced run: nothing of the run happened after this. */
  fencedAt?: Date;
}

export interface JobRunnerOptions<T> {
  name: string;
  intervalSeconds: number;
  leader: LeaderLock;
  runs: JobRunRepository;
  metrics: Metrics;
  /**
   * The job. `signal` aborts when this replica loses the job's leader lock: from then on the work
   * must make no EC2 mutation (hand it to the EC2 calls) and no state write (`signal.throwIfAborted()`
   * before each).
   */
  work: (signal: AbortSignal) => Promise<T>;
  /** Fields for the log line of a successful run. */
  summary: (result: T) => Record<string, unknown>;
}

/** Below this share of the interval since the last finished run's start (on any replica), a tick does not run again. */
const MIN_GAP_SHARE = 0.8;
const HISTORY = 100;
const RUNNER = `${hostname()}:${process.pid}`;
const RECENT = Symbol('recent');

/**
 * Runs one periodic job (STYLE §9): a tick never overlaps the previous one, runs only on the replica
 * holding the job's leader lock (SPEC §9) and is fenced when that lock is lost, is timed and logged,
 * and reports a failure to Sentry instead of throwing — a failed run never stops the schedule or the
 * process.
 */
export class JobRunner<T> {
  /** This replica's recent runs, oldest first. */
  readonly history: JobRunRecord[] = [];
  private readonly log: Logger;
  private current: Promise<JobPass> | null = null;
  private stopped = false;

  constructor(private readonly options: JobRunnerOptions<T>) {
    this.log = new Logger(`Job:${options.name}`);
  }

  get name(): string {
    return this.options.name;
  }

  get intervalSeconds(): number {
    return this.options.intervalSeconds;
  }

  /**
   * One scheduled tick. `force` skips the "ran recently elsewhere" check (a run asked for by hand);
   * the leader lock is always taken. Never rejects.
   */
  tick(force = false): Promise<TickResult> {
    return this.pass(force).then((p) => p.result);
  }

  /** One pass now, asked for by hand (an operator, `npm run job`): `tick(true)` with what the run did. */
  runNow(): Promise<JobPass> {
    return this.pass(true);
  }

  private pass(force: boolean): Promise<JobPass> {
    if (this.stopped) return Promise.resolve({ result: 'stopped' });
    if (this.current) return Promise.resolve({ result: 'busy' });
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
    registry.addInterval(this.name, setInterval(tick, this.intervalSeconds * 1000));
    this.log.log({ msg: 'scheduled', job: this.name, everySeconds: this.intervalSeconds });
  }

  /** No new ticks; waits for a run in progress (the database must outlive it). */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.current;
  }

  private async run(force: boolean): Promise<JobPass> {
    const { name, leader, runs, intervalSeconds, metrics } = this.options;
    let started: Date | undefined;
    try {
      const locked = await leader.withLock(name, async (signal) => {
        const run = await runs.start(name, RUNNER, force ? 0 : intervalSeconds * MIN_GAP_SHARE);
        if (!run) return RECENT;
        // Timed and recorded inside the lock: the history shows when this replica really held the job.
        started = new Date();
        let fencedAt: Date | undefined;
        const onAbort = (): void => {
          fencedAt = new Date();
        };
        signal.addEventListener('abort', onAbort, { once: true });
        let ok = false;
        try {
          // Nobody waits on a job, even one an API request asked for: its EC2 calls wait for tokens.
          const result = await inBackground(() => this.options.work(signal));
          signal.throwIfAborted();
          await runs.finish(run, true, null);
          ok = true;
          return result;
        } catch (err) {
          if (signal.aborted) await runs.abort(run, errorMessage(signal.reason)).catch(() => undefined);
          else await runs.finish(run, false, errorMessage(err)).catch(() => undefined);
          throw err;
        } finally {
          signal.removeEventListener('abort', onAbort);
          this.history.push({ started, finished: new Date(), ok, ...(fencedAt ? { fencedAt } : {}) });
          if (this.history.length > HISTORY) this.history.shift();
        }
      });
      if (!locked.acquired || locked.result === RECENT) {
        metrics.jobRuns.inc({ job: name, outcome: 'skipped' });
        this.log.debug({ msg: 'skipped: another replica leads or ran it lately', job: name });
        return { result: locked.acquired ? 'recent' : 'not-leader' };
      }
      const ms = Date.now() - started!.getTime();
      metrics.jobRuns.inc({ job: name, outcome: 'ok' });
      metrics.jobDuration.observe({ job: name }, ms / 1000);
      const summary = this.options.summary(locked.result);
      this.log.log({ msg: `${name} done`, job: name, ms, ...summary });
      return { result: 'ran', started, ms, summary };
    } catch (err) {
      const ms = started ? Date.now() - started.getTime() : undefined;
      if (ms !== undefined) metrics.jobDuration.observe({ job: name }, ms / 1000);
      if (err instanceof LeaderLockLostError) {
        this.log.warn({ msg: `${name} aborted`, job: name, ms, why: 'leader lock lost', err });
        reportError(err, { level: 'warning', tags: { job: name } });
        metrics.jobRuns.inc({ job: name, outcome: 'aborted' });
        return { result: 'aborted', started, ms, error: errorMessage(err) };
      }
      this.log.error({ msg: `${name} failed`, job: name, ms, err });
      reportError(err, { tags: { job: name } });
      metrics.jobRuns.inc({ job: name, outcome: 'failed' });
      return { result: 'failed', started, ms, error: errorMessage(err) };
    }
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
