import { Logger } from '@nestjs/common';
import type { SqsConsumerOptions, SqsOptions } from '@ssut/nestjs-sqs/dist/sqs.types';
import { AwsClients } from '../aws/aws-clients.service';
import { AppConfig } from '../config/app-config';
import { SetupService } from '../setup/setup.service';
import { DatabaseStatusService } from '../state/database-status.service';
import { deadLetterConsumerName, eventsConsumerName, eventsQueueName } from './region-consumer.handler';
import { ReceiveGates } from './receive-gates.service';

/**
 * The consumers of every region's queue (`SQS_CONSUMERS_PER_QUEUE` of them) and dead-letter queue (one)
 * (SqsModule's options). Resolved once
 * migrations have run (injecting the database waits for them) and, where configured (sandbox mode by
 * default), once setup has created the queues and rules.
 */
export async function sqsConsumersOptions(
  cfg: AppConfig,
  aws: AwsClients,
  setup: SetupService,
  db: DatabaseStatusService,
  gates: ReceiveGates,
): Promise<SqsOptions> {
  const log = new Logger('EventListener');
  if (await db.pendingMigrations()) log.warn({ msg: 'starting consumers with migrations pending' });
  if (cfg.setupOnStart) {
    const report = await setup.run();
    log.log({ msg: 'setup done', created: report.created.length, updated: report.updated.length });
  }
  const queues = await setup.queues();
  const consumer = (name: string, queue: string, region: string, queueUrl: string): SqsConsumerOptions => ({
    name,
    queueUrl,
    sqs: aws.sqs(region),
    batchSize: cfg.sqsBatchSize,
    waitTimeSeconds: cfg.sqsWaitTimeSeconds,
    visibilityTimeout: cfg.sqsVisibilityTimeoutSeconds,
    messageSystemAttributeNames: ['ApproximateReceiveCount'],
    terminateVisibilityTimeout: false,
    // SPEC §4: no receive while the database is down; back-off while the queue fails.
    preReceiveMessageCallback: () => gates.beforeReceive(queue, name),
    postReceiveMessageCallback: () => Promise.resolve(gates.afterReceive(queue, name)),
  });
  return {
    consumers: queues.flatMap((q) => [
      ...Array.from({ length: cfg.sqsConsumersPerQueue }, (_, i) =>
        consumer(eventsConsumerName(q.region, i), eventsQueueName(q.region), q.region, q.queueUrl),
      ),
      consumer(deadLetterConsumerName(q.region), deadLetterConsumerName(q.region), q.region, q.deadLetterQueueUrl),
    ]),
    logger: log,
  };
}
