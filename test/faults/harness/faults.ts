import type { FaultUpdate } from '../../../src/sandbox';
import { FleetDriver } from './fleet';
import { sleep } from './replica';
import { describeFault, ScheduledFault } from './schedule';
import { FaultWorld } from './world';

/** Advisory locks held now, with the backend holding each: where the replicas' job leadership lives. */
const LOCK_HOLDERS = `
  SELECT l.pid, ((l.classid::bigint << 32) | l.objid::bigint)::text AS key, a.application_name
  FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
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
  readonly lockKills: { at: number; key: string; pid: number }[] = [];

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
    await this.sandbox({ ec2: { outage: 'hang' } });
    try {
      const until = Date.now() + seconds * 1000;
      let killed = false;
      while (!killed && Date.now() < until) {
        const holders = await this.world
          .query<{ pid: number; key: string; application_name: string }>(LOCK_HOLDERS)
          .catch(() => []);
        for (const h of holders) {
          await this.world.query('SELECT pg_terminate_backend($1)', [h.pid]);
          this.lockKills.push({ at: Date.now(), key: h.key, pid: h.pid });
          this.note(`terminated backend ${h.pid} holding advisory lock ${h.key}`);
          killed = true;
        }
        if (!killed) await sleep(100);
      }
      if (!killed) this.missed.push('kill-leader-lock: no backend held a leader lock');
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
