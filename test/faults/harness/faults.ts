import { JOB_NAMES } from '../../../src/config/app-config';
import type { FaultUpdate } from '../../../src/sandbox';
import { FleetDriver } from './fleet';
import { sleep } from './replica';
import { describeFault, ScheduledFault } from './schedule';
import { FaultWorld } from './world';

/** The periodic jobs, each led through the advisory lock keyed `ec2-manager:job:<name>` (LeaderLock). */
const JOBS: readonly string[] = JOB_NAMES;

/**
 * The backends holding a job's leader lock now. Other advisory locks (an instance's event lock,
 * held for one transaction) are left alone: killing those is a lost connection, not a lost leader.
 */
const LEADER_LOCK_HOLDERS = `
  SELECT l.pid, j.name AS job, a.state, left(a.query, 80) AS query
  FROM pg_locks l
  JOIN pg_stat_activity a ON a.pid = l.pid
  JOIN unnest($1::text[]) AS j(name)
    ON ((l.classid::bigint << 32) | l.objid::bigint) = hashtextextended('ec2-manager:job:' || j.name, 0)
  WHERE l.locktype = 'advisory' AND l.granted AND a.datname = current_database()`;

/**
 * Applies the faults of a schedule at their times and takes each back when its time is up; keeps a
 * timeline, printed with every report, of what was really done when.
 */
export class FaultInjector {
  readonly timeline: string[] = [];
  /** Faults that could not be applied as scheduled (a run where they were not applied proves nothing about them). */
  readonly missed: string[] = [];
  /** Leader-lock backends terminated: when, and which lock. */
  readonly lockKills: { at: number; job: string; pid: number }[] = [];

  constructor(
    private readonly world: FaultWorld,
    private readonly fleet: FleetDriver,
    private readonly t0: number,
  ) {}

  note(text: string): void {
    this.timeline.push(`t+${((Date.now() - this.t0) / 1000).toFixed(1)}s ${text}`);
  }

  async run(item: ScheduledFault): Promise<void> {
    const wait = this.t0 + item.at * 1000 - Date.now();
    if (wait > 0) await sleep(wait);
    const f = item.fault;
    this.note(`start ${describeFault(f)}`);
    const hold = () => sleep(f.seconds * 1000);
    switch (f.kind) {
      case 'db-stop':
        await this.world.pg.stop(f.mode);
        await hold();
        await this.world.pg.start();
        break;
      case 'db-freeze':
        this.world.pg.freeze();
        await hold();
        this.world.pg.thaw();
        break;
      case 'sqs-down':
        await this.sandbox({ sqs: { outage: f.mode, errorStatus: 503 } });
        await hold();
        await this.sandbox({ sqs: { outage: 'none' } });
        break;
      case 'ec2-down':
        await this.sandbox({ ec2: { outage: f.mode } });
        await hold();
        await this.sandbox({ ec2: { outage: 'none' } });
        break;
      case 'describe-lag':
        await this.sandbox({ describeInstancesLagSeconds: f.lagSeconds, describeSpotRequestsLagSeconds: f.lagSeconds });
        await hold();
        await this.sandbox({ describeInstancesLagSeconds: 0, describeSpotRequestsLagSeconds: 0 });
        break;
      case 'throttle':
        await this.sandbox({ throttle: { fraction: f.fraction, actions: [] } });
        await hold();
        await this.sandbox({ throttle: { fraction: 0, actions: [] } });
        break;
      case 'kill-replica': {
        const replica = this.world.replicas[f.replica];
        await replica.kill();
        await hold();
        await replica.start().catch((err: unknown) => this.note(`${replica.name} not up again: ${String(err)}`));
        break;
      }
      case 'kill-leader-lock':
        await this.killLeaderLock(f.seconds);
        break;
      case 'terminate-worker-type':
        await this.fleet.terminateWorkerType(f.workerType);
        break;
    }
    this.note(`end ${f.kind}`);
  }

  /**
   * EC2 made to hang, so that a job run holds its lock for longer than most of its interval; the
   * backend holding it is terminated mid-run; the hang goes on a little so the other replica can
   * take the lock while the first run still believes it leads (SPEC §9: it must stop at once).
   */
  private async killLeaderLock(seconds: number): Promise<void> {
    // A leader to fence and another replica to take over: after a kill, or a start that waited out a
    // database outage, a replica may still be coming up (on a busy machine, for tens of seconds).
    const waited = Date.now();
    try {
      await this.world.databaseAnswers(90_000);
      await Promise.all(this.world.replicas.map((r) => r.waitUp(90_000)));
    } catch (err) {
      this.missed.push(`kill-leader-lock: the replicas were not up within 90 s (${String(err).slice(0, 200)})`);
      return;
    }
    if (Date.now() - waited > 1000) this.note(`kill-leader-lock waited ${Date.now() - waited} ms for every replica`);
    // Requests for the spot poller to describe: with none in state its runs never reach EC2, so never hang.
    await this.fleet.openLowBids(2);
    await this.sandbox({ ec2: { outage: 'hang' } });
    try {
      const until = Date.now() + seconds * 1000;
      // A lock held this long belongs to a run stuck in EC2, not to a tick that finds the job ran lately.
      const heldMs = 700;
      const firstSeen = new Map<number, number>();
      let killed = false;
      while (!killed && Date.now() < until) {
        const holders = await this.world
          .query<{ pid: number; job: string; state: string; query: string }>(LEADER_LOCK_HOLDERS, [JOBS])
          .catch(() => []);
        for (const pid of firstSeen.keys()) if (!holders.some((h) => h.pid === pid)) firstSeen.delete(pid);
        for (const h of holders) {
          if (!firstSeen.has(h.pid)) firstSeen.set(h.pid, Date.now());
          if (Date.now() - firstSeen.get(h.pid)! < heldMs) continue;
          await this.world.query('SELECT pg_terminate_backend($1)', [h.pid]);
          this.lockKills.push({ at: Date.now(), job: h.job, pid: h.pid });
          this.note(`terminated backend ${h.pid} holding the ${h.job} leader lock (${h.state}: ${h.query})`);
          killed = true;
        }
        if (!killed) await sleep(100);
      }
      if (!killed) this.missed.push('kill-leader-lock: no backend held a leader lock');
      // The other replica ticks every couple of seconds: time for it to take the lock while the first run is stuck.
      else await sleep(4000);
    } finally {
      await this.sandbox({ ec2: { outage: 'none' } });
    }
  }

  /** Every fault taken back: the database up and thawed, the sandbox healthy, every replica running. */
  async clearAll(): Promise<void> {
    this.world.sandbox.control.clearFaults();
    await this.settled();
    if (!this.world.pg.running) await this.world.pg.start();
    this.world.pg.thaw();
    await Promise.all(
      this.world.replicas.filter((r) => r.status === 'down').map((r) => r.start().catch(() => undefined)),
    );
    this.note('all faults cleared');
  }

  private async sandbox(update: FaultUpdate): Promise<void> {
    this.world.sandbox.control.setFaults(update);
    await this.settled();
  }

  private settled(): Promise<void> {
    return this.world.sandbox.control.settled();
  }
}
