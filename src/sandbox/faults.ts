import { seededRandom } from './random';

export interface ThrottleFault {
  /** Share of EC2 calls answered with RequestLimitExceeded, 0..1. */
  fraction: number;
  /** Only these EC2 actions (empty: all). */
  actions: string[];
}

export interface EventFaults {
  /** Extra simulated seconds between a transition and its delivery. */
  delaySeconds: number;
  /** Share of events delivered twice (same event id, as EventBridge's at-least-once delivery does). */
  duplicateFraction: number;
  /** Share of events held back and delivered after the next one. */
  reorderFraction: number;
  /** Longest a held event waits for a successor (simulated seconds) before it is delivered anyway. */
  reorderWindowSeconds: number;
}

export interface FaultSettings {
  throttle: ThrottleFault;
  /** DescribeInstances answers NotFound for (and leaves out) instances younger than this many simulated seconds. */
  describeInstancesLagSeconds: number;
  events: EventFaults;
}

export interface FaultUpdate {
  throttle?: Partial<ThrottleFault>;
  describeInstancesLagSeconds?: number;
  events?: Partial<EventFaults>;
}

const NONE: FaultSettings = {
  throttle: { fraction: 0, actions: [] },
  describeInstancesLagSeconds: 0,
  events: { delaySeconds: 0, duplicateFraction: 0, reorderFraction: 0, reorderWindowSeconds: 5 },
};

export class Faults {
  private current: FaultSettings = structuredClone(NONE);
  private readonly random: () => number;

  constructor(seed: number) {
    this.random = seededRandom(seed);
  }

  get settings(): Readonly<FaultSettings> {
    return this.current;
  }

  update(change: FaultUpdate): FaultSettings {
    const next: FaultSettings = {
      throttle: { ...this.current.throttle, ...defined(change.throttle) },
      describeInstancesLagSeconds: change.describeInstancesLagSeconds ?? this.current.describeInstancesLagSeconds,
      events: { ...this.current.events, ...defined(change.events) },
    };
    for (const [name, value] of [
      ['throttle.fraction', next.throttle.fraction],
      ['events.duplicateFraction', next.events.duplicateFraction],
      ['events.reorderFraction', next.events.reorderFraction],
    ] as const) {
      if (!(value >= 0 && value <= 1)) throw new RangeError(`${name} must be between 0 and 1`);
    }
    if (!(next.describeInstancesLagSeconds >= 0)) throw new RangeError('describeInstancesLagSeconds must be >= 0');
    if (!(next.events.delaySeconds >= 0)) throw new RangeError('events.delaySeconds must be >= 0');
    if (!(next.events.reorderWindowSeconds >= 0)) throw new RangeError('events.reorderWindowSeconds must be >= 0');
    if (!Array.isArray(next.throttle.actions) || next.throttle.actions.some((a) => typeof a !== 'string')) {
      throw new RangeError('throttle.actions must be a list of EC2 action names');
    }
    this.current = next;
    return next;
  }

  clear(): void {
    this.current = structuredClone(NONE);
  }

  shouldThrottle(action: string): boolean {
    const t = this.current.throttle;
    if (t.fraction <= 0) return false;
    if (t.actions.length > 0 && !t.actions.includes(action)) return false;
    return this.chance(t.fraction);
  }

  /** true with probability `p`; exact at 0 and 1 so tests can be deterministic. */
  chance(p: number): boolean {
    if (p <= 0) return false;
    if (p >= 1) return true;
    return this.random() < p;
  }
}

/** Drops `undefined` members so that a partial update leaves those settings alone. */
function defined<T extends object>(value: T | undefined): Partial<T> {
  if (!value) return {};
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
