import { Rng } from './random';

/** The faults of SPEC §4/§9 the suite applies (issue #10's list). */
export type Fault =
  /** Postgres shut down (fast: clients disconnected; immediate: as a crash) for `seconds`, then started again. */
  | { kind: 'db-stop'; seconds: number; mode: 'fast' | 'immediate' }
  /** Postgres and every backend SIGSTOPped: connections stay open and nothing answers. */
  | { kind: 'db-freeze'; seconds: number }
  /** The SQS endpoint refuses connections or answers 5xx; queued messages are kept. */
  | { kind: 'sqs-down'; seconds: number; mode: 'refuse' | 'error' }
  /** The EC2 endpoint refuses, resets or never answers. */
  | { kind: 'ec2-down'; seconds: number; mode: 'refuse' | 'reset' | 'hang' }
  /** DescribeInstances / DescribeSpotInstanceRequests do not know resources younger than `lagSeconds`. */
  | { kind: 'describe-lag'; seconds: number; lagSeconds: number }
  /** That share of EC2 calls answers RequestLimitExceeded. */
  | { kind: 'throttle'; seconds: number; fraction: number }
  /** One replica SIGKILLed; started again after `seconds`. */
  | { kind: 'kill-replica'; seconds: number; replica: number }
  /**
   * The backend holding a job's leader lock (found through pg_locks) terminated mid-run, while EC2
   * is slow enough that the run outlasts most of its interval and another replica could take over.
   */
  | { kind: 'kill-leader-lock'; seconds: number }
  /** Not a fault: terminateWorkerType for one worker type, at a moment chosen like the faults'. */
  | { kind: 'terminate-worker-type'; seconds: number; workerType: string };

export type FaultKind = Fault['kind'];

export interface ScheduledFault {
  at: number;
  fault: Fault;
}

/** What each fault occupies: two faults sharing one never overlap (a frozen database cannot also be stopped). */
const RESOURCES: Record<FaultKind, string[]> = {
  'db-stop': ['db'],
  'db-freeze': ['db'],
  'kill-leader-lock': ['db', 'throttle', 'ec2', 'replicas'],
  'kill-replica': ['replicas'],
  'sqs-down': ['sqs'],
  'ec2-down': ['ec2'],
  'describe-lag': ['lag'],
  throttle: ['throttle'],
  'terminate-worker-type': ['fleet'],
};

export interface ScheduleProfile {
  /** Faults start within about this many seconds (later when they must wait for one another). */
  horizonSeconds: number;
  /** Each kind listed appears this many times. */
  rounds: number;
  kinds: FaultKind[];
  /** Longer outages for soaks. */
  scale: number;
  replicas: number;
  workerTypes: string[];
  /** SQS settings the outages must outlast (SPEC §4: beyond maxReceiveCount × visibility). */
  maxReceiveCount: number;
  visibilitySeconds: number;
}

function draw(kind: FaultKind, rng: Rng, p: ScheduleProfile): Fault {
  const s = (min: number, max: number) => Math.round(rng.between(min, max) * p.scale * 10) / 10;
  const redelivery = p.maxReceiveCount * p.visibilitySeconds;
  switch (kind) {
    case 'db-stop':
      return { kind, seconds: s(redelivery + 4, redelivery + 8), mode: rng.pick(['fast', 'immediate'] as const) };
    case 'db-freeze':
      return { kind, seconds: s(24, 30) };
    case 'sqs-down':
      return { kind, seconds: s(5, 10), mode: rng.pick(['refuse', 'error'] as const) };
    case 'ec2-down': {
      const mode = rng.pick(['refuse', 'reset', 'hang'] as const);
      // A hang outlasts the API's hang bound (20 s): only the service's own EC2 timeouts can answer in time.
      return { kind, seconds: mode === 'hang' ? s(22, 26) : s(4, 8), mode };
    }
    case 'describe-lag':
      // Shorter than the redelivery window: longer lags lose events by design (SPEC §4 leaves them to housekeeping).
      return {
        kind,
        seconds: s(8, 15),
        lagSeconds: Math.round(rng.between(1, Math.max(1.5, redelivery / 2)) * 10) / 10,
      };
    case 'throttle':
      return { kind, seconds: s(8, 15), fraction: 0.3 };
    case 'kill-replica':
      return { kind, seconds: s(1, 5), replica: rng.int(0, p.replicas - 1) };
    case 'kill-leader-lock':
      return { kind, seconds: 12 };
    case 'terminate-worker-type':
      return { kind, seconds: 0, workerType: rng.pick(p.workerTypes) };
  }
}

/**
 * A random schedule from a seed: every kind of the profile, in random order, at random times and
 * with random lengths and modes; faults overlap unless they share what they break.
 */
export function makeSchedule(rng: Rng, p: ScheduleProfile): ScheduledFault[] {
  const placed: ScheduledFault[] = [];
  const kinds = rng.shuffle(Array.from({ length: p.rounds }, () => p.kinds).flat());
  for (const kind of kinds) {
    const fault = draw(kind, rng, p);
    let at = Math.round(rng.between(0, p.horizonSeconds) * 10) / 10;
    for (let moved = true; moved;) {
      moved = false;
      for (const other of placed) {
        const shared = RESOURCES[kind].some((r) => RESOURCES[other.fault.kind].includes(r));
        const overlaps = at < other.at + other.fault.seconds + 2 && other.at < at + fault.seconds + 2;
        if (shared && overlaps) {
          at = Math.round((other.at + other.fault.seconds + rng.between(2, 5)) * 10) / 10;
          moved = true;
        }
      }
    }
    placed.push({ at, fault });
  }
  return placed.sort((a, b) => a.at - b.at);
}

export function describeFault(f: Fault): string {
  const { kind, seconds, ...rest } = f;
  const extra = Object.entries(rest)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');
  return `${kind} ${seconds}s${extra ? ` ${extra}` : ''}`;
}

export function scheduleEnd(schedule: ScheduledFault[]): number {
  return Math.max(0, ...schedule.map((s) => s.at + s.fault.seconds));
}
