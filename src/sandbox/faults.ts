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

export const SQS_OUTAGES = ['none', 'refuse', 'error'] as const;
export type SqsOutage = (typeof SQS_OUTAGES)[number];

export interface SqsFault {
  /** `refuse`: the public SQS port is closed (connection refused); `error`: every call answers `errorStatus`. */
  outage: SqsOutage;
  /** 500 (`InternalError`) or 503 (`ServiceUnavailable`). */
  errorStatus: number;
}

export const EC2_OUTAGES = ['none', 'refuse', 'reset', 'hang'] as const;
export type Ec2Outage = (typeof EC2_OUTAGES)[number];

export interface Ec2Fault {
  /**
   * `refuse`: the EC2 port is closed (connection refused); `reset`: every EC2 request's connection is reset;
   * `hang`: EC2 requests are read and never answered (until the outage ends, when their connections are reset).
   */
  outage: Ec2Outage;
}

export interface FaultSettings {
  throttle: ThrottleFault;
  /** DescribeInstances answers NotFound for (and leaves out) instances younger than this many simulated seconds. */
  describeInstancesLagSeconds: number;
  /** The same for DescribeSpotInstanceRequests and spot requests. */
  describeSpotRequestsLagSeconds: number;
  events: EventFaults;
  sqs: SqsFault;
  ec2: Ec2Fault;
}

export interface FaultUpdate {
  throttle?: Partial<ThrottleFault>;
  describeInstancesLagSeconds?: number;
  describeSpotRequestsLagSeconds?: number;
  events?: Partial<EventFaults>;
  sqs?: Partial<SqsFault>;
  ec2?: Partial<Ec2Fault>;
}

const NONE: FaultSettings = {
  throttle: { fraction: 0, actions: [] },
  describeInstancesLagSeconds: 0,
  describeSpotRequestsLagSeconds: 0,
  events: { delaySeconds: 0, duplicateFraction: 0, reorderFraction: 0, reorderWindowSeconds: 5 },
  sqs: { outage: 'none', errorStatus: 500 },
  ec2: { outage: 'none' },
};

export class Faults {
  private current: FaultSettings = structuredClone(NONE);
  private readonly random: () => number;
  private readonly listeners: ((settings: FaultSettings) => void)[] = [];

  constructor(seed: number) {
    this.random = seededRandom(seed);
  }

  get settings(): Readonly<FaultSettings> {
    return this.current;
  }

  /** Called after every change, e.g. to close or reopen a listener. */
  onChange(listener: (settings: FaultSettings) => void): void {
    this.listeners.push(listener);
  }

  update(change: FaultUpdate): FaultSettings {
    const next: FaultSettings = {
      throttle: { ...this.current.throttle, ...defined(change.throttle) },
      describeInstancesLagSeconds: change.describeInstancesLagSeconds ?? this.current.describeInstancesLagSeconds,
      describeSpotRequestsLagSeconds:
        change.describeSpotRequestsLagSeconds ?? this.current.describeSpotRequestsLagSeconds,
      events: { ...this.current.events, ...defined(change.events) },
      sqs: { ...this.current.sqs, ...defined(change.sqs) },
      ec2: { ...this.current.ec2, ...defined(change.ec2) },
    };
    for (const [name, value] of [
      ['throttle.fraction', next.throttle.fraction],
      ['events.duplicateFraction', next.events.duplicateFraction],
      ['events.reorderFraction', next.events.reorderFraction],
    ] as const) {
      if (!(value >= 0 && value <= 1)) throw new RangeError(`${name} must be between 0 and 1`);
    }
    for (const [name, value] of [
      ['describeInstancesLagSeconds', next.describeInstancesLagSeconds],
      ['describeSpotRequestsLagSeconds', next.describeSpotRequestsLagSeconds],
    ] as const) {
      if (!(value >= 0)) throw new RangeError(`${name} must be >= 0`);
    }
    if (!(SQS_OUTAGES as readonly string[]).includes(next.sqs.outage)) {
      throw new RangeError(`sqs.outage must be one of ${SQS_OUTAGES.join(', ')}`);
    }
    if (next.sqs.errorStatus !== 500 && next.sqs.errorStatus !== 503) {
      throw new RangeError('sqs.errorStatus must be 500 or 503');
    }
    if (!(EC2_OUTAGES as readonly string[]).includes(next.ec2.outage)) {
      throw new RangeError(`ec2.outage must be one of ${EC2_OUTAGES.join(', ')}`);
    }
    if (!(next.events.delaySeconds >= 0)) throw new RangeError('events.delaySeconds must be >= 0');
    if (!(next.events.reorderWindowSeconds >= 0)) throw new RangeError('events.reorderWindowSeconds must be >= 0');
    if (!Array.isArray(next.throttle.actions) || next.throttle.actions.some((a) => typeof a !== 'string')) {
      throw new RangeError('throttle.actions must be a list of EC2 action names');
    }
    this.current = next;
    this.changed();
    return next;
  }

  clear(): void {
    this.current = structuredClone(NONE);
    this.changed();
  }

  private changed(): void {
    for (const listener of this.listeners) listener(this.current);
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
