import { GetQueueAttributesCommand, GetQueueUrlCommand, PurgeQueueCommand } from '@aws-sdk/client-sqs';
import { Injectable, Logger } from '@nestjs/common';
import { awsErrorFields, hasAwsErrorCode } from '../aws/aws-error';
import { AwsClients } from '../aws/aws-clients.service';
import { AppConfig } from '../config/app-config';
import { QueueStatsDto } from './dto/internal.dto';

const NO_QUEUE = ['QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue'];

interface Counts {
  visible: number;
  inFlight: number;
  delayed: number;
}

/** The event queues of every region, as operators see them. */
@Injectable()
export class QueuesService {
  private readonly log = new Logger(QueuesService.name);

  constructor(
    private readonly aws: AwsClients,
    private readonly config: AppConfig,
  ) {}

  /** Per region: the queue's visible, in-flight and delayed messages and its dead-letter queue's size. */
  stats(): Promise<QueueStatsDto[]> {
    return Promise.all(
      this.config.regions.map(async (region): Promise<QueueStatsDto> => {
        const base = { region, queue: this.config.queueName };
        try {
          const [main, dead] = await Promise.all([
            this.counts(region, this.config.queueName),
            this.counts(region, this.config.deadLetterQueueName),
          ]);
          if (!main) {
            return {
              ...base,
              visible: null,
              inFlight: null,
              delayed: null,
              deadLettered: dead?.visible ?? null,
              error: `queue ${this.config.queueName} does not exist in ${region} (run the setup command)`,
            };
          }
          return { ...base, ...main, deadLettered: dead ? dead.visible + dead.inFlight + dead.delayed : null };
        } catch (err) {
          this.log.warn({ msg: 'cannot read queue attributes', ...awsErrorFields(err), region });
          return {
            ...base,
            visible: null,
            inFlight: null,
            delayed: null,
            deadLettered: null,
            error: 'cannot read the queue',
          };
        }
      }),
    );
  }

  /** Empties every region's event queue (not the dead-letter queue, which holds evidence). */
  async purge(): Promise<void> {
    await Promise.all(
      this.config.regions.map(async (region) => {
        const url = await this.url(region, this.config.queueName);
        if (!url) return;
        try {
          await this.aws.sqs(region).send(new PurgeQueueCommand({ QueueUrl: url }));
          this.log.log({ msg: 'queue purged', region, queue: this.config.queueName });
        } catch (err) {
          // SQS allows one purge a minute; one already under way does what was asked.
          if (!hasAwsErrorCode(err, 'PurgeQueueInProgress', 'AWS.SimpleQueueService.PurgeQueueInProgress')) throw err;
        }
      }),
    );
  }

  private async url(region: string, name: string): Promise<string | null> {
    try {
      const { QueueUrl } = await this.aws.sqs(region).send(new GetQueueUrlCommand({ QueueName: name }));
      return QueueUrl ?? null;
    } catch (err) {
      if (hasAwsErrorCode(err, ...NO_QUEUE)) return null;
      throw err;
    }
  }

  private async counts(region: string, name: string): Promise<Counts | null> {
    const url = await this.url(region, name);
    if (!url) return null;
    const { Attributes = {} } = await this.aws.sqs(region).send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: [
          'ApproximateNumberOfMessages',
          'ApproximateNumberOfMessagesNotVisible',
          'ApproximateNumberOfMessagesDelayed',
        ],
      }),
    );
    return {
      visible: Number(Attributes.ApproximateNumberOfMessages ?? 0),
      inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
      delayed: Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0),
    };
  }
}
