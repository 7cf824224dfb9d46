import { Injectable, Logger } from '@nestjs/common';
import * as Sentry from '@sentry/nestjs';
import type { EntityManager } from 'typeorm';
import { InstanceAdoption } from '../resources/instance-adoption.service';
import { isLiveInstanceState } from '../state/entities';
import { EventLogRepository } from '../state/event-log.repository';
import { InstanceRepository } from '../state/instance.repository';
import { TerminationNoticeRepository } from '../state/termination-notice.repository';
import { Tx } from '../state/tx.service';
import { CapacityCooldownRepository } from '../state/capacity-cooldown.repository';
import { AppConfig } from '../config/app-config';
import { EventCounters, HandledOutcome } from './event-counters.service';
import { Ec2Event, NoticeEvent, StateChangeEvent } from './event-envelope';

/**
 * EC2's API lags its events: an instance an event names may not be describable yet. Thrown so that
 * the message stays on the queue and is redelivered (and dead-lettered if it never shows up).
 */
export class InstanceNotYetKnownError extends Error {
  constructor(
    readonly region: string,
    readonly instanceId: string,
  ) {
    super(`${region}: EC2 does not know instance ${instanceId} yet`);
    this.name = 'InstanceNotYetKnownError';
  }
}

/**
 * Applies one EC2 event to state (SPEC §4). Idempotent and order-independent: every change for one
 * instance happens under its event lock, and the `last_event` rule plus the event log decide what an
 * event may still change, so duplicates, late and reordered events converge to the in-order result.
 */
@Injectable()
export class EventHandlerService {
  private readonly log = new Logger(EventHandlerService.name);

  constructor(
    private readonly tx: Tx,
    private readonly instances: InstanceRepository,
    private readonly eventLog: EventLogRepository,
    private readonly notices: TerminationNoticeRepository,
    private readonly counters: EventCounters,
    private readonly adoption: InstanceAdoption,
    private readonly cooldowns: CapacityCooldownRepository,
    private readonly config: AppConfig,
  ) {}

  async handle(event: Ec2Event): Promise<HandledOutcome> {
    return event.kind === 'state-change' ? this.stateChange(event) : this.notice(event);
  }

  private async stateChange(event: StateChangeEvent): Promise<HandledOutcome> {
    const { region, instanceId: id, state, time } = event;
    const first = await this.tx.run(async (m) => {
      await this.instances.lockForEvents(region, id, m);
      const outcome = await this.applyStateChange(event, m);
      // Logged in the same transaction as its effect (one commit, not two), behind a savepoint.
      const { error } = await this.eventLog.logGuarded({ id, region, state, generated: time }, m);
      if (error !== undefined) this.eventLogFailed(event, error);
      return outcome;
    });
    if (first !== 'lookup') return first;
    // A late `pending`/`running` for an instance already seen leaving: don't ask EC2, don't bring it back.
    if (await this.eventLog.hasLeftSince(region, id, time)) return 'stale';
    return this.adopt(region, id, time, 'state change');
  }

  private async applyStateChange(event: StateChangeEvent, m: EntityManager): Promise<HandledOutcome | 'lookup'> {
    const { region, instanceId: id, state, time } = event;
    const applied = await this.instances.applyEvent(region, id, state, time, m);
    if (applied !== 'absent') return applied;
    if (isLiveInstanceState(state)) return 'lookup';
    // Not in state and leaving: nothing to keep, and removing is idempotent (its notices go with it).
    await this.instances.remove(region, id, m);
    return 'removed';
  }

  private async notice(event: NoticeEvent): Promise<HandledOutcome> {
    let outcome: HandledOutcome = 'recorded';
    for (const id of event.instanceIds) {
      const record = (m?: EntityManager) =>
        this.notices.record(
          {
            region: event.region,
            instanceId: id,
            kind: event.notice,
            action: event.action,
            notBefore: event.notBefore,
            received: undefined,
          },
          m,
        );
      if (await record()) continue;
      // An instance of ours not in state yet (its launch events still on their way): add it, then note.
      const adopted = await this.adopt(event.region, id, event.time, event.notice, record);
      if (adopted !== 'added' && adopted !== 'updated') outcome = adopted;
    }
    if (event.notice === 'spot-interruption') {
      const pools = await this.cooldowns.recordInterrupted(
        event.region,
        event.instanceIds,
        this.config.capacityCooldownSeconds,
      );
      if (pools > 0) {
        this.log.warn({
          msg: 'spot pool in capacity cooldown: interruption',
          region: event.region,
          instanceIds: event.instanceIds,
        });
      }
    }
    return outcome;
  }

  /**
   * Adopts an instance state does not know (SPEC §4.3), exactly as the spot poller does: EC2's answer is
   * at least as new as the event, so later events still apply and earlier ones don't. EC2 not knowing it
   * yet fails the message, to be redelivered.
   */
  private async adopt(
    region: string,
    id: string,
    eventTime: Date,
    why: string,
    after?: (m: EntityManager) => Promise<unknown>,
  ): Promise<HandledOutcome> {
    const outcome = await this.adoption.adopt(region, id, { why, since: eventTime, lastEvent: eventTime, after });
    if (outcome === 'unknown') throw new InstanceNotYetKnownError(region, id);
    return outcome;
  }

  /** SPEC §4.1: a failure to log is reported and never blocks the event. */
  private eventLogFailed(event: StateChangeEvent, err: unknown): void {
    this.counters.countEventLogFailure();
    this.log.error({
      msg: 'logging an event failed',
      region: event.region,
      instanceId: event.instanceId,
      state: event.state,
      err,
    });
    Sentry.captureException(err, { tags: { region: event.region, instanceId: event.instanceId, stage: 'event-log' } });
  }
}
