import { ChangeMessageVisibilityBatchCommand, GetQueueUrlCommand, type Message } from '@aws-sdk/client-sqs';
import { Injectable, Logger } from '@nestjs/common';
import * as Sentry from '@sentry/nestjs';
import { AwsClients } from '../aws/aws-clients.service';
import { awsErrorFields } from '../aws/aws-error';
import { AppConfig } from '../config/app-config';
import { reportError } from '../logging/report';
import { DatabaseStatusService } from '../state/database-status.service';
import { isDatabaseUnavailable } from '../state/database-errors';
import { EventCounters, EventKind, HandledOutcome } from './event-counters.service';
import { Ec2Event, instanceIdOf, NoticeEvent, parseEnvelope, StateChangeEvent } from './event-envelope';
import { EventHandlerService, InstanceNotYetKnownError } from './event-handler.service';

function receiveCount(message: Message): number | undefined {
  const n = Number(message.Attributes?.ApproximateReceiveCount);
  return Number.isFinite(n) ? n : undefined;
}

type Result = 'ack' | 'lag' | 'failed' | 'poison';
type Entry<E extends Ec2Event> = { message: Message; event: E };

function eventKind(event: Ec2Event): EventKind {
  return event.kind === 'state-change' ? 'state-change' : event.notice;
}

/**
 * Turns a batch received from a region's queue into handled events, and says which messages may be
 * deleted: those whose effect is committed and those that can never have one (poison). A message
 * left out stays on the queue, is redelivered after its visibility timeout, and after
 * `maxReceiveCount` receives lands in the dead-letter queue.
 */
@Injectable()
export class EventBatchProcessor {
  private readonly log = new Logger(EventBatchProcessor.name);

  constructor(
    private readonly handler: EventHandlerService,
    private readonly counters: EventCounters,
    private readonly config: AppConfig,
    private readonly aws: AwsClients,
    private readonly database: DatabaseStatusService,
  ) {}

  private readonly queueUrls = new Map<string, Promise<string>>();

  async handleBatch(region: string, messages: Message[]): Promise<Message[]> {
    const acked: Message[] = [];
    const retry: Message[] = [];
    await this.handleEach(region, messages, (message, result) => {
      if (result === 'ack' || result === 'poison') acked.push(message);
      else retry.push(message);
    });
    if (retry.length > 0) await this.retrySoon(region, retry);
    return acked;
  }

  /**
   * The dead-letter queue holds events that took no effect in `maxReceiveCount` deliveries. Each is
   * tried once more as a normal event (SPEC §4): one that now takes effect is applied, deleted and
   * counted as recovered; one whose instance EC2 still does not know is reported as an untracked
   * instance and deleted; one that failed on our side (database, EC2 unreachable, a bug) stays, to be
   * tried again after the visibility timeout.
   */
  async handleDeadLetters(region: string, messages: Message[]): Promise<Message[]> {
    const acked: Message[] = [];
    await this.handleEach(region, messages, (message, result, event) => {
      if (result === 'ack') {
        this.counters.countHandled(eventKind(event!), 'recovered');
        this.log.log({ msg: 'dead-lettered event recovered', region, messageId: message.MessageId });
      }
      if (result === 'lag') this.untracked(region, message);
      if (result !== 'failed') acked.push(message);
    });
    return acked;
  }

  /**
   * A batch's state-change events are applied together (`EventHandlerService.stateChanges`: one
   * transaction, per-instance order kept); notices one by one after them, those of different instances
   * in parallel. Should the batch's transaction fail, its events are handled one by one (events of one
   * instance in receive order), so that one event's failure costs no other event; a database that
   * cannot be reached fails them all at once instead.
   */
  private async handleEach(
    region: string,
    messages: Message[],
    done: (message: Message, result: Result, event?: Ec2Event) => void,
  ): Promise<void> {
    const changes: Entry<StateChangeEvent>[] = [];
    const notices = new Map<string, Entry<NoticeEvent>[]>();
    for (const message of messages) {
      const parsed = parseEnvelope(message.Body, region);
      if (!parsed.ok) {
        this.reject(region, message, parsed.reason, parsed.message);
        done(message, 'poison');
      } else if (parsed.event.kind === 'state-change') {
        changes.push({ message, event: parsed.event });
      } else {
        const key = parsed.event.instanceIds.join(',');
        notices.set(key, [...(notices.get(key) ?? []), { message, event: parsed.event }]);
      }
    }
    if (changes.length > 0) await this.handleStateChanges(region, changes, done);
    await Promise.all([...notices.values()].map((group) => this.inOrder(region, group, done)));
  }

  private async handleStateChanges(
    region: string,
    entries: Entry<StateChangeEvent>[],
    done: (message: Message, result: Result, event?: Ec2Event) => void,
  ): Promise<void> {
    let results: PromiseSettledResult<HandledOutcome>[];
    try {
      results = await this.handler.stateChanges(
        region,
        entries.map((e) => e.event),
      );
    } catch (err) {
      if (entries.length === 1 || isDatabaseUnavailable(err)) {
        results = entries.map(() => ({ status: 'rejected', reason: err }));
      } else {
        this.log.warn({
          msg: 'applying a batch of events failed; applying them one by one',
          region,
          events: entries.length,
          ...awsErrorFields(err),
        });
        const byInstance = new Map<string, Entry<StateChangeEvent>[]>();
        for (const entry of entries) {
          byInstance.set(entry.event.instanceId, [...(byInstance.get(entry.event.instanceId) ?? []), entry]);
        }
        await Promise.all([...byInstance.values()].map((group) => this.inOrder(region, group, done)));
        return;
      }
    }
    entries.forEach(({ message, event }, i) => done(message, this.settle(region, message, event, results[i]), event));
  }

  /** Events one by one, in order, each in its own transaction. */
  private async inOrder(
    region: string,
    group: Entry<Ec2Event>[],
    done: (message: Message, result: Result, event?: Ec2Event) => void,
  ): Promise<void> {
    for (const { message, event } of group) {
      const result = await this.handler.handle(event).then(
        (value) => ({ status: 'fulfilled' as const, value }),
        (reason: unknown) => ({ status: 'rejected' as const, reason }),
      );
      done(message, this.settle(region, message, event, result), event);
    }
  }

  /**
   * EC2's API usually catches up with its events within seconds, and a failure on our side (a database
   * that just came back) is worth another try soon: such an event comes back after 4, 8, 16 ... seconds
   * (capped by the visibility timeout) rather than after the whole timeout. While the database is down
   * the consumers do not receive, so the early return costs no delivery. Best effort: if this fails,
   * the visibility timeout brings it back anyway.
   */
  private async retrySoon(region: string, messages: Message[]): Promise<void> {
    try {
      const sqs = this.aws.sqs(region);
      let url = this.queueUrls.get(region);
      if (!url) {
        url = sqs.send(new GetQueueUrlCommand({ QueueName: this.config.queueName })).then((o) => o.QueueUrl!);
        this.queueUrls.set(region, url);
        url.catch(() => this.queueUrls.delete(region));
      }
      await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: await url,
          Entries: messages.map((m, i) => ({
            Id: String(i),
            ReceiptHandle: m.ReceiptHandle,
            VisibilityTimeout: Math.min(this.config.sqsVisibilityTimeoutSeconds, 2 ** ((receiveCount(m) ?? 1) + 1)),
          })),
        }),
      );
    } catch (err) {
      this.log.warn({ msg: 'shortening the redelivery of lagging events failed', region, ...awsErrorFields(err) });
    }
  }

  /** Counts and reports what handling an event did. `ack`: the message may be deleted; otherwise it stays. */
  private settle(
    region: string,
    message: Message,
    event: Ec2Event,
    result: PromiseSettledResult<HandledOutcome>,
  ): 'ack' | 'lag' | 'failed' {
    const kind = eventKind(event);
    if (result.status === 'fulfilled') {
      this.counters.countHandled(kind, result.value);
      return 'ack';
    }
    const err: unknown = result.reason;
    const ids = { region, messageId: message.MessageId, eventId: event.eventId, receiveCount: receiveCount(message) };
    if (err instanceof InstanceNotYetKnownError) {
      this.counters.countHandled(kind, 'lag');
      this.log.warn({
        msg: 'instance not yet known to EC2; event left for redelivery',
        ...ids,
        instanceId: err.instanceId,
      });
      return 'lag';
    }
    this.counters.countHandled(kind, 'failed');
    this.database.noteFailure(err);
    this.log.error({ msg: 'handling an event failed; left for redelivery', ...ids, kind, ...awsErrorFields(err) });
    reportError(err, { tags: { region, kind, stage: 'event' }, extra: { ...ids, body: message.Body } });
    return 'failed';
  }

  /** Poison: acknowledged so it never blocks the queue or loops, but logged, counted and reported. */
  private reject(region: string, message: Message, reason: string, why: string): void {
    this.counters.countRejected(reason);
    const fields = { region, messageId: message.MessageId, reason, why };
    this.log.warn({ msg: 'event rejected and deleted', ...fields });
    Sentry.captureMessage(`ec2-manager: ${reason} event in ${region}: ${why}`, {
      level: 'warning',
      tags: { region, reason, stage: 'event' },
      extra: { ...fields, body: message.Body?.slice(0, 8192) },
    });
  }

  /** EC2 still does not know the instance of a dead-lettered event: reported, then deleted. */
  private untracked(region: string, message: Message): void {
    const instanceId = instanceIdOf(message.Body);
    const count = receiveCount(message);
    this.counters.countDeadLettered(region);
    this.log.error({
      msg: 'dead-lettered event: untracked instance',
      region,
      instanceId,
      messageId: message.MessageId,
      receiveCount: count,
    });
    Sentry.captureMessage(`ec2-manager: untracked instance ${instanceId ?? '(unknown)'} in ${region}`, {
      level: 'error',
      tags: { region, instanceId, stage: 'dead-letter' },
      extra: { region, instanceId, receiveCount: count, messageId: message.MessageId, body: message.Body },
    });
  }
}
