import type { Message } from '@aws-sdk/client-sqs';
import { Injectable, Type } from '@nestjs/common';
import { SqsConsumerEventHandler, SqsMessageHandler } from '@ssut/nestjs-sqs';
import { EventBatchProcessor } from './event-batch.processor';
import { ReceiveGates } from './receive-gates.service';

export const eventsConsumerName = (region: string): string => `events@${region}`;
export const deadLetterConsumerName = (region: string): string => `dead-letters@${region}`;

/**
 * The consumers of one region. @ssut/nestjs-sqs finds handlers by consumer name through method
 * decorators, and the regions are known only from configuration, so each region gets its own class.
 */
export function regionConsumer(region: string): Type {
  const events = eventsConsumerName(region);
  const dead = deadLetterConsumerName(region);

  @Injectable()
  class RegionConsumer {
    constructor(
      readonly processor: EventBatchProcessor,
      readonly gates: ReceiveGates,
    ) {}

    @SqsMessageHandler(events, true)
    handleEvents(messages: Message[]): Promise<Message[]> {
      return this.processor.handleBatch(region, messages);
    }

    @SqsConsumerEventHandler(events, 'error')
    onEventsError(err: Error): void {
      this.consumerError(events, err);
    }

    @SqsMessageHandler(dead, true)
    handleDeadLetters(messages: Message[]): Promise<Message[]> {
      return this.processor.handleDeadLetters(region, messages);
    }

    @SqsConsumerEventHandler(dead, 'error')
    onDeadLettersError(err: Error): void {
      this.consumerError(dead, err);
    }

    /** sqs-consumer emits `error` both for its SQS calls (`SQSError`) and for a batch handler that threw. */
    private consumerError(queue: string, err: Error): void {
      if (err.name === 'SQSError') this.gates.sqsFailed(region, queue, err);
      else this.gates.handlerFailed(region, queue, err);
    }
  }
  Object.defineProperty(RegionConsumer, 'name', { value: `RegionConsumer(${region})` });
  return RegionConsumer;
}
