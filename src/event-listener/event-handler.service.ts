import { CreateTagsCommand, Instance as Ec2Instance } from '@aws-sdk/client-ec2';
import { Injectable, Logger } from '@nestjs/common';
import * as Sentry from '@sentry/nestjs';
import type { EntityManager } from 'typeorm';
import { awsErrorFields } from '../aws/aws-error';
import { AwsClients } from '../aws/aws-clients.service';
import { hasResourceTags, ownedWorkerType, resourceTags } from '../aws/naming';
import { toInstanceRow } from '../common/ec2-rows';
import { AppConfig } from '../config/app-config';
import { isLiveInstanceState } from '../state/entities';
import { EventLogRepository } from '../state/event-log.repository';
import { InstanceRepository, NewInstance } from '../state/instance.repository';
import { TerminationNoticeRepository } from '../state/termination-notice.repository';
import { Tx } from '../state/tx.service';
import { UsageRepository } from '../state/usage.repository';
import { EventCounters, HandledOutcome } from './event-counters.service';
import { Ec2Event, NoticeEvent, StateChangeEvent } from './event-envelope';
import { InstanceLookup } from './instance-lookup.service';

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

type Lookup =
  { found: 'ours'; row: NewInstance; instance: Ec2Instance } | { found: 'foreign' } | { found: 'gone'; state: string };

/**
 * Applies one EC2 event to state (SPEC §4). Idempotent and order-independent: every change for one
 * instance happens under its event lock, and the `last_event` rule plus the event log decide what an
 * event may still change, so duplicates, late and reordered events converge to the in-order result.
 */
@Injectable()
export class EventHandlerService {
  private readonly log = new Logger(EventHandlerService.name);

  constructor(
    private readonly config: AppConfig,
    private readonly aws: AwsClients,
    private readonly tx: Tx,
    private readonly instances: InstanceRepository,
    private readonly eventLog: EventLogRepository,
    private readonly notices: TerminationNoticeRepository,
    private readonly usage: UsageRepository,
    private readonly counters: EventCounters,
    private readonly ec2: InstanceLookup,
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
    return outcome;
  }

  /**
   * Looks an instance up in EC2 and, when it is ours and live, tags it if untagged, adds it to state
   * (which forgets its fulfilled spot request) and records its AMI's use, all in one transaction.
   * `after` runs inside that transaction (e.g. recording the notice that brought us here).
   */
  private async adopt(
    region: string,
    id: string,
    eventTime: Date,
    why: string,
    after?: (m: EntityManager) => Promise<unknown>,
  ): Promise<HandledOutcome> {
    const found = await this.lookup(region, id, eventTime);
    if (found.found === 'foreign') return 'foreign';
    if (found.found === 'gone') {
      this.log.debug({ msg: 'event for an instance already gone', region, instanceId: id, state: found.state, why });
      return 'gone';
    }
    await this.tagIfUntagged(region, found.instance, found.row.workerType);
    return this.tx.run(async (m) => {
      await this.instances.lockForEvents(region, id, m);
      if (await this.eventLog.hasLeftSince(region, id, eventTime, m)) return 'stale';
      await this.instances.upsert(found.row, m);
      await this.usage.recordAmiUsage(region, [found.row.imageId], new Date(), m);
      if (after) await after(m);
      this.log.log({
        msg: 'instance added from event',
        region,
        instanceId: id,
        workerType: found.row.workerType,
        state: found.row.state,
        spotRequestId: found.row.spotRequestId,
        why,
      });
      return 'added';
    });
  }

  private async lookup(region: string, id: string, eventTime: Date): Promise<Lookup> {
    const instance = await this.ec2.describe(region, id);
    if (!instance) throw new InstanceNotYetKnownError(region, id);
    const workerType = ownedWorkerType(instance.KeyName, this.config.managerId);
    if (workerType === null) return { found: 'foreign' };
    const state = instance.State?.Name ?? 'unknown';
    const row = toInstanceRow(region, instance, this.config.managerId);
    if (!row) return { found: 'gone', state };
    // EC2's answer is at least as new as the event: later events still apply, earlier ones don't.
    return {
      found: 'ours',
      instance,
      row: { ...row, launched: instance.LaunchTime ?? eventTime, lastEvent: eventTime },
    };
  }

  /** Tagging is worth doing, not worth losing the event over: housekeeping tags what this misses. */
  private async tagIfUntagged(region: string, instance: Ec2Instance, workerType: string): Promise<void> {
    if (hasResourceTags(instance.Tags, this.config.managerId, workerType)) return;
    const volumes = (instance.BlockDeviceMappings ?? []).flatMap((b) => (b.Ebs?.VolumeId ? [b.Ebs.VolumeId] : []));
    try {
      await this.aws.ec2(region).send(
        new CreateTagsCommand({
          Resources: [instance.InstanceId!, ...volumes],
          Tags: resourceTags(this.config.managerId, workerType),
        }),
      );
    } catch (err) {
      this.log.warn({ msg: 'tagging an instance failed', instanceId: instance.InstanceId, ...awsErrorFields(err) });
      Sentry.captureException(err, { tags: { region, instanceId: instance.InstanceId, stage: 'tag-instance' } });
    }
  }

  /** SPEC §4.1: a failure to log is reported and never blocks the event. */
  private eventLogFailed(event: StateChangeEvent, err: unknown): void {
    this.counters.countEventLogFailure();
    this.log.error({
      msg: 'logging an event failed',
      region: event.region,
      instanceId: event.instanceId,
      state: event.state,
      err: String(err),
    });
    Sentry.captureException(err, { tags: { region: event.region, instanceId: event.instanceId, stage: 'event-log' } });
  }
}
