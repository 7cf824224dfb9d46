import type { Message } from '@aws-sdk/client-sqs';
import { Injectable, Type } from '@nestjs/common';
import { SqsConsumerEventHandler, SqsMessageHandler } from '@ssut/nestjs-sqs';
import { EventBatchProcessor } from './event-batch.processor';
import { ReceiveGates } from './receive-gates.service';

/** A region's events queue, as logs and the receive gates name it. */
export const eventsQueueName = (region: string): string => `events@${region}`;
/** The `index`th consumer of a region's events queue; the first is named as the queue. */
export const eventsConsumerName = (region: string, index = 0): string =>
  index === 0 ? eventsQueueName(region) : `${eventsQueueName(region)}#${index + 1}`;
export const deadLetterConsumerName = (region: string): string => `dead-letters@${region}`;

type Handle = (processor: EventBatchProcessor, messages: Message[]) => Promise<Message[]>;

/**
 * The consumers of one region: `eventsConsumers` on its events queue (several receives in flight at
 * once), one on its dead-letter queue. @ssut/nestjs-sqs finds a consumer's handler by its name through
 * method decorators, and names are known only from configuration, so each consumer gets its own class.
 */
export function regionConsumers(region: string, eventsConsumers: number): Type[] {
  return [
    ...Array.from({ length: eventsConsumers }, (_, i) =>
      queueConsumer(region, eventsConsumerName(region, i), eventsQueueName(region), (p, messages) =>
        p.handleBatch(region, messages),
      ),
    ),
    queueConsumer(region, deadLetterConsumerName(region), deadLetterConsumerName(region), (p, messages) =>
      p.handleDeadLetters(region, messages),
    ),
  ];
}

function queueConsumer(region: string, name: string, queue: string, handle: Handle): Type {
  @Injectable()
  class QueueConsumer {
    constructor(
      readonly processor: EventBatchProcessor,
      readonly gates: ReceiveGates,
    ) {}

    @SqsMessageHandler(name, true)
    handle(messages: Message[]): Promise<Message[]> {
      return handle(this.processor, messages);
    }

    /** sqs-consumer emits `error` both for its SQS calls (`SQSError`) and for a batch handler that threw. */
    @SqsConsumerEventHandler(name, 'error')
    onError(err: Error): void {
      if (err.name === 'SQSError') this.gates.sqsFailed(region, queue, name, err);
      else this.gates.handlerFailed(region, queue, err);
    }
  }
  Object.defineProperty(QueueConsumer, 'name', { value: `QueueConsumer(${name})` });
  return QueueConsumer;
}
