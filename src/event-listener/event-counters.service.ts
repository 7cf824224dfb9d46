import { Injectable } from '@nestjs/common';
import { Metrics } from '../metrics/metrics.service';

export type EventKind = 'state-change' | 'spot-interruption' | 'rebalance-recommendation' | 'scheduled-change';

/**
 * What handling one event did; `lag` and `failed` leave the message to be redelivered; `recovered`
 * counts, besides its own outcome, a dead-lettered event that took effect when tried again.
 */
export type HandledOutcome =
  | 'updated'
  | 'removed'
  | 'added'
  | 'out-of-order'
  | 'stale'
  | 'gone'
  | 'foreign'
  | 'recorded'
  | 'lag'
  | 'failed'
  | 'recovered';

export interface EventCountersSnapshot {
  /** `<kind>/<outcome>` → count. */
  handled: Record<string, number>;
  /** `malformed` / `unknown` → count: acknowledged without effect. */
  rejected: Record<string, number>;
  outOfOrder: number;
  lagRetries: number;
  deadLettered: number;
  eventLogFailures: number;
}

/**
 * Counters of the event listener (SPEC §9): kept here for tests and logs (`snapshot()`), and moved in
 * step on the Prometheus metrics.
 */
@Injectable()
export class EventCounters {
  private readonly handled = new Map<string, number>();
  private readonly rejected = new Map<string, number>();
  private outOfOrder = 0;
  private lagRetries = 0;
  private deadLettered = 0;
  private eventLogFailures = 0;

  constructor(private readonly metrics: Metrics) {}

  countHandled(kind: EventKind, outcome: HandledOutcome): void {
    bump(this.handled, `${kind}/${outcome}`);
    this.metrics.eventsHandled.inc({ kind, outcome });
    if (outcome === 'out-of-order') {
      this.outOfOrder++;
      this.metrics.eventsOutOfOrder.inc();
    }
    if (outcome === 'lag') {
      this.lagRetries++;
      this.metrics.eventLagRedeliveries.inc();
    }
  }

  /** A message that is no event we act on (`malformed`, `unknown`): acknowledged without effect. */
  countRejected(reason: string): void {
    bump(this.rejected, reason);
    this.metrics.eventsHandled.inc({ kind: reason, outcome: 'rejected' });
  }

  countDeadLettered(region: string): void {
    this.deadLettered++;
    this.metrics.eventsDeadLettered.inc({ region });
  }

  countEventLogFailure(): void {
    this.eventLogFailures++;
  }

  snapshot(): EventCountersSnapshot {
    return {
      handled: Object.fromEntries(this.handled),
      rejected: Object.fromEntries(this.rejected),
      outOfOrder: this.outOfOrder,
      lagRetries: this.lagRetries,
      deadLettered: this.deadLettered,
      eventLogFailures: this.eventLogFailures,
    };
  }
}

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}
