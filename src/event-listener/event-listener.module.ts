import type { Message } from '@aws-sdk/client-sqs';
import {
  BeforeApplicationShutdown,
  DynamicModule,
  Injectable,
  Logger,
  Module,
  OnApplicationBootstrap,
  Provider,
  Type,
} from '@nestjs/common';
import { SqsConsumerEventHandler, SqsMessageHandler, SqsModule, SqsService } from '@ssut/nestjs-sqs';
import type { SqsConsumerOptions } from '@ssut/nestjs-sqs/dist/sqs.types';
import type { Consumer } from 'sqs-consumer';
import { AwsClients } from '../aws/aws-clients.service';
import { AwsModule } from '../aws/aws.module';
import { AppConfig } from '../config/app-config';
import { SetupModule } from '../setup/setup.module';
import { SetupService } from '../setup/setup.service';
import { DatabaseStatusService } from '../state/database-status.service';
import { ResourcesModule } from '../resources/resources.module';
import { StateModule } from '../state/state.module';
import { EventBatchProcessor } from './event-batch.processor';
import { EventCounters } from './event-counters.service';
import { EventHandlerService } from './event-handler.service';
import { QueueHealth } from './queue-health.service';
import { ReceiveGates } from './receive-gates.service';

export const eventsConsumerName = (region: string): string => `events@${region}`;
export const deadLetterConsumerName = (region: string): string => `dead-letters@${region}`;

/**
 * The consumers of one region. @ssut/nestjs-sqs finds handlers by consumer name through method
 * decorators, and the regions are known only from configuration, so each region gets its own class.
 */
function regionConsumer(region: string): Type {
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

/**
 * Stops taking messages and lets the batches in hand finish (handled, committed and deleted) before
 * the database closes. `SqsService` stops the consumers on module destroy without waiting for them;
 * a consumer idle in a long poll is cut short here, one with a batch in hand is waited for.
 */
@Injectable()
class ConsumerDrain implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('EventListener');
  private readonly busy = new Set<Consumer>();

  constructor(
    private readonly sqs: SqsService,
    private readonly config: AppConfig,
    private readonly gates: ReceiveGates,
  ) {}

  onApplicationBootstrap(): void {
    for (const { instance } of this.sqs.consumers.values()) {
      instance.on('message_received', () => this.busy.add(instance));
      instance.on('response_processed', () => this.busy.delete(instance));
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

/** Shared by the consumers' options (SqsModule's factory) and their event handlers. */
@Module({ imports: [StateModule], providers: [ReceiveGates], exports: [ReceiveGates] })
class ReceiveGatesModule {}

/**
 * Consumes EC2 events from each region's queue and its dead-letter queue into state (SPEC §4).
 * Consumers start once migrations have run (the options factory waits on the database) and, where
 * configured (sandbox mode by default), once setup has created the queues and rules.
 */
@Module({})
export class EventListenerModule {
  static register(config: AppConfig): DynamicModule {
    const base = {
      module: EventListenerModule,
      imports: [StateModule, AwsModule, ResourcesModule],
      providers: [EventCounters, EventHandlerService, EventBatchProcessor] as Provider[],
      exports: [EventCounters, EventHandlerService],
    };
    // A sandbox not started yet is no cloud at all (main.ts always starts it first): nothing to consume.
    if (!config.eventListenerEnabled || config.inProcessSandbox) return base;
    return {
      ...base,
      imports: [
        ...base.imports,
        ReceiveGatesModule,
        SqsModule.registerAsync({
          imports: [StateModule, AwsModule, SetupModule, ReceiveGatesModule],
          inject: [AppConfig, AwsClients, SetupService, DatabaseStatusService, ReceiveGates],
          useFactory: async (
            cfg: AppConfig,
            aws: AwsClients,
            setup: SetupService,
            db: DatabaseStatusService,
            gates: ReceiveGates,
          ) => {
            const log = new Logger('EventListener');
            // Injecting the database makes this wait for its migrations; this waits for setup.
            if (await db.pendingMigrations()) log.warn({ msg: 'starting consumers with migrations pending' });
            if (cfg.setupOnStart) {
              const report = await setup.run();
              log.log({ msg: 'setup done', created: report.created.length, updated: report.updated.length });
            }
            const queues = await setup.queues();
            const consumer = (name: string, region: string, queueUrl: string): SqsConsumerOptions => ({
              name,
              queueUrl,
              sqs: aws.sqs(region),
              batchSize: cfg.sqsBatchSize,
              waitTimeSeconds: cfg.sqsWaitTimeSeconds,
              visibilityTimeout: cfg.sqsVisibilityTimeoutSeconds,
              messageSystemAttributeNames: ['ApproximateReceiveCount'],
              terminateVisibilityTimeout: false,
              // SPEC §4: no receive while the database is down; back-off while the queue fails.
              preReceiveMessageCallback: () => gates.beforeReceive(name),
              postReceiveMessageCallback: () => Promise.resolve(gates.afterReceive(name)),
            });
            return {
              consumers: queues.flatMap((q) => [
                consumer(eventsConsumerName(q.region), q.region, q.queueUrl),
                consumer(deadLetterConsumerName(q.region), q.region, q.deadLetterQueueUrl),
              ]),
              logger: log,
            };
          },
        }),
      ],
      providers: [...base.providers, ...config.regions.map(regionConsumer), ConsumerDrain, QueueHealth],
      exports: [...base.exports, QueueHealth],
      // Readiness (HealthModule) asks QueueHealth about the queues, when this replica consumes them.
      global: true,
    };
  }
}
