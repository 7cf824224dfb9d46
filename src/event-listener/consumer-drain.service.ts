import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { SqsService } from '@ssut/nestjs-sqs';
import type { Consumer } from 'sqs-consumer';
import { AppConfig } from '../config/app-config';
import { ReceiveGates } from './receive-gates.service';

/**
 * Stops taking messages and lets the batches in hand finish (handled, committed and deleted) before
 * the database closes. `SqsService` stops the consumers on module destroy without waiting for them;
 * a consumer idle in a long poll is cut short here, one with a batch in hand is waited for.
 */
@Injectable()
export class ConsumerDrain implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('EventListener');
  private readonly busy = new Set<Consumer>();

  constructor(
    private readonly sqs: SqsService,
    private readonly config: AppConfig,
    private readonly gates: ReceiveGates,
  ) {}

  onApplicationBootstrap(): void {
    for (const { instance } of this.sqs.consumers.values()) {
      // Busy from the moment its receive answers: until `message_received`, an abort would still reach
      // the deletes of the messages it is about to handle (several consumers per queue make that likely).
      const consumer = instance as unknown as { postReceiveMessageCallback?: () => Promise<void> };
      const answered = consumer.postReceiveMessageCallback;
      consumer.postReceiveMessageCallback = async () => {
        this.busy.add(instance);
        await answered?.();
      };
      instance.on('message_received', () => this.busy.add(instance));
      instance.on('response_processed', () => this.busy.delete(instance));
      instance.on('empty', () => this.busy.delete(instance));
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    const consumers = [...this.sqs.consumers.values()].map((c) => c.instance);
    this.gates.shuttingDown();
    for (const consumer of consumers) consumer.stop();
    const deadline = Date.now() + (this.config.sqsWaitTimeSeconds + this.config.sqsVisibilityTimeoutSeconds) * 1000;
    for (;;) {
      const polling = consumers.filter((c) => c.status.isPolling);
      if (polling.length === 0 || Date.now() > deadline) break;
      // sqs-consumer aborts a receive only through stop({abort}), which would abort the deletes of a batch
      // in hand too; so only the idle ones are aborted, through the controller stop() would have used.
      for (const c of polling)
        if (!this.busy.has(c)) (c as unknown as { abortController?: AbortController }).abortController?.abort();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const stuck = consumers.filter((c) => c.status.isPolling).length;
    if (stuck > 0)
      this.log.warn({ msg: 'consumers still busy at shutdown; their messages will be redelivered', stuck });
  }
}
