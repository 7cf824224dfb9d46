import { Injectable, Logger } from '@nestjs/common';
import * as Sentry from '@sentry/nestjs';
import type { EntityManager } from 'typeorm';
import { AdoptionOutcome, InstanceAdoption } from '../resources/instance-adoption.service';
import { isLiveInstanceState } from '../state/entities';
import { EventLogRepository } from '../state/event-log.repository';
import { InstanceRepository, isNewerEvent } from '../state/instance.repository';
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
    if (event.kind !== 'state-change') return this.notice(event);
    const [result] = await this.stateChanges(event.region, [event]);
    if (result.status === 'rejected') throw result.reason;
    return result.value;
  }

  /**
   * Applies state-change events of one region, in the order given for each instance (SPEC §4), in one
   * transaction: the instances' event locks in sorted order, the events decided by the state layer's
   * rule, the event log in one statement. Instances that are not in state are adopted after that
   * commit, together. Thrown: the transaction failed and nothing of it took effect. Otherwise each
   * event's outcome, or the error that leaves it for redelivery (an instance EC2 does not know yet, a
   * failed lookup), in order.
   */
  async stateChanges(
    region: string,
    events: readonly StateChangeEvent[],
  ): Promise<PromiseSettledResult<HandledOutcome>[]> {
    const { applied, logErrors } = await this.tx.run(async (m) => {
      await this.instances.lockForEvents(
        region,
        events.map((e) => e.instanceId),
        m,
      );
      const outcomes = await this.instances.applyEvents(
        region,
        events.map((e) => ({ id: e.instanceId, state: e.state, time: e.time })),
        m,
      );
      // Not in state and leaving: nothing to keep, and removing is idempotent (its notices go with it).
      const leaving = events.filter((e, i) => outcomes[i] === 'absent' && !isLiveInstanceState(e.state));
      await this.instances.removeMany(region, [...new Set(leaving.map((e) => e.instanceId))], m);
      // Logged in the same transaction as their effect (one commit, not two), behind a savepoint.
      const errors = await this.eventLog.logManyGuarded(
        events.map((e) => ({ id: e.instanceId, region, state: e.state, generated: e.time })),
        m,
      );
      return { applied: outcomes, logErrors: errors };
    });
    for (const [i, err] of logErrors) this.eventLogFailed(events[i], err);
    const results: PromiseSettledResult<HandledOutcome>[] = applied.map((outcome) => ({
      status: 'fulfilled',
      value: outcome !== 'absent' ? outcome : 'removed',
    }));
    const lookups = events.flatMap((e, i) => (applied[i] === 'absent' && isLiveInstanceState(e.state) ? [i] : []));
    if (lookups.length > 0) {
      // What was applied is committed: a failure from here on leaves only the lookups for redelivery.
      await this.lookUp(region, events, lookups, results).catch((err: unknown) => {
        for (const i of lookups) results[i] = { status: 'rejected', reason: err };
      });
    }
    return results;
  }

  /**
   * The live events of instances not in state: each instance is looked up once, for its newest such
   * event, unless it was logged leaving since; the older ones share its result.
   */
  private async lookUp(
    region: string,
    events: readonly StateChangeEvent[],
    lookups: number[],
    results: PromiseSettledResult<HandledOutcome>[],
  ): Promise<void> {
    const newest = new Map<string, StateChangeEvent>();
    for (const i of lookups) {
      const known = newest.get(events[i].instanceId);
      if (!known || isNewerEvent(events[i], known)) newest.set(events[i].instanceId, events[i]);
    }
    const candidates = [...newest.values()];
    // A late `pending`/`running` for an instance already seen leaving: don't ask EC2, don't bring it back.
    const left = await this.eventLog.leftSince(
      region,
      candidates.map((e) => ({ id: e.instanceId, since: e.time })),
    );
    const adopt = candidates.filter((e) => !left.has(e.instanceId));
    const adopted = await this.adoption.adoptMany(
      region,
      adopt.map((e) => ({ id: e.instanceId, since: e.time, lastEvent: e.time })),
      { why: 'state change' },
    );
    const byId = new Map<string, PromiseSettledResult<HandledOutcome>>();
    for (const id of left) byId.set(id, { status: 'fulfilled', value: 'stale' });
    adopt.forEach((e, k) => byId.set(e.instanceId, this.adopted(region, e.instanceId, adopted[k])));
    for (const i of lookups) {
      const result = byId.get(events[i].instanceId)!;
      const superseded = events[i] !== newest.get(events[i].instanceId);
      // Added once, by the newest: against its row, each older one is out of order (as when it comes second).
      results[i] =
        superseded && result.status === 'fulfilled' && result.value === 'added'
          ? { status: 'fulfilled', value: 'out-of-order' }
          : result;
    }
  }

  /** EC2 not knowing an instance yet fails its message, to be redelivered. */
  private adopted(
    region: string,
    id: string,
    result: PromiseSettledResult<AdoptionOutcome>,
  ): PromiseSettledResult<HandledOutcome> {
    if (result.status === 'rejected') return result;
    if (result.value === 'unknown') return { status: 'rejected', reason: new InstanceNotYetKnownError(region, id) };
    return { status: 'fulfilled', value: result.value };
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
