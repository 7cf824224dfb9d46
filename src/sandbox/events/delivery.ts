import { SimClock, ScheduledTask } from '../clock';
import { Faults } from '../faults';
import { SqsSender } from '../sqs/sender';
import { EventEnvelope } from './envelope';
import { RuleStore, Target } from './rules';

export interface DeliveryRecord {
  eventId: string;
  detailType: string;
  region: string;
  rule: string;
  targetId: string;
  targetArn: string;
  ok: boolean;
  error?: string;
  /** Simulated time of the attempt. */
  at: number;
}

export interface DeliveryStats {
  emitted: number;
  matched: number;
  delivered: number;
  failed: number;
  duplicated: number;
  reordered: number;
  delayed: number;
}

const RECENT_LIMIT = 500;

/**
 * Routes events through the fault settings (delay, duplicate, reorder), matches them against the rules of their
 * region and sends them to SQS targets one at a time, so the order in the queue is the order chosen here.
 */
export class EventDelivery {
  private chain: Promise<void> = Promise.resolve();
  private inFlight = 0;
  private held: { envelope: EventEnvelope; task: ScheduledTask } | undefined;
  readonly recent: DeliveryRecord[] = [];
  stats: DeliveryStats = emptyStats();

  constructor(
    private readonly rules: RuleStore,
    private readonly sender: SqsSender,
    private readonly faults: Faults,
    private readonly clock: SimClock,
    private readonly log: (entry: Record<string, unknown>) => void,
  ) {}

  emit(envelope: EventEnvelope): void {
    this.stats.emitted++;
    const f = this.faults.settings.events;
    const copies = this.faults.chance(f.duplicateFraction) ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    const go = () => {
      for (let n = 0; n < copies; n++) this.route(envelope);
    };
    if (f.delaySeconds > 0) {
      this.stats.delayed++;
      this.clock.after(f.delaySeconds, go);
    } else {
      go();
    }
  }

  /** Resolves once every send queued so far has finished. */
  async flush(): Promise<void> {
    while (this.inFlight > 0) await this.chain;
  }

  reset(): void {
    if (this.held) this.held.task.cancelled = true;
    this.held = undefined;
    this.recent.length = 0;
    this.stats = emptyStats();
  }

  private route(envelope: EventEnvelope): void {
    const held = this.held;
    if (held) {
      held.task.cancelled = true;
      this.held = undefined;
      this.dispatch(envelope);
      this.dispatch(held.envelope);
      return;
    }
    if (this.faults.chance(this.faults.settings.events.reorderFraction)) {
      this.stats.reordered++;
      const task = this.clock.after(this.faults.settings.events.reorderWindowSeconds, () => {
        if (this.held?.envelope !== envelope) return;
        this.held = undefined;
        this.dispatch(envelope);
      });
      this.held = { envelope, task };
      return;
    }
    this.dispatch(envelope);
  }

  private dispatch(envelope: EventEnvelope): void {
    for (const rule of this.rules.matching(envelope.region, envelope)) {
      this.stats.matched++;
      for (const target of rule.targets.values()) this.enqueue(envelope, rule.name, target);
    }
  }

  private enqueue(envelope: EventEnvelope, rule: string, target: Target): void {
    const record: DeliveryRecord = {
      eventId: envelope.id,
      detailType: envelope['detail-type'],
      region: envelope.region,
      rule,
      targetId: target.Id,
      targetArn: target.Arn,
      ok: false,
      at: this.clock.now(),
    };
    this.inFlight++;
    this.chain = this.chain
      .then(async () => {
        if (!target.Arn.startsWith('arn:aws:sqs:')) throw new Error('only SQS targets are simulated');
        await this.sender.send(target.Arn, targetInput(envelope, target));
        record.ok = true;
        this.stats.delivered++;
      })
      .catch((err: unknown) => {
        record.error = err instanceof Error ? err.message : String(err);
        this.stats.failed++;
        this.log({ msg: 'event delivery failed', eventId: envelope.id, rule, target: target.Arn, err });
      })
      .finally(() => {
        this.inFlight--;
        this.recent.push(record);
        if (this.recent.length > RECENT_LIMIT) this.recent.shift();
      });
  }
}

function emptyStats(): DeliveryStats {
  return { emitted: 0, matched: 0, delivered: 0, failed: 0, duplicated: 0, reordered: 0, delayed: 0 };
}

/** What EventBridge sends for a target: the event, its constant `Input`, or the part `InputPath` selects. */
function targetInput(envelope: EventEnvelope, target: Target): string {
  if (typeof target.Input === 'string') return target.Input;
  if (typeof target.InputPath === 'string') {
    let value: unknown = envelope;
    for (const key of target.InputPath.replace(/^\$\.?/, '')
      .split('.')
      .filter(Boolean)) {
      value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
    }
    return JSON.stringify(value ?? null);
  }
  return JSON.stringify(envelope);
}
