import { GetQueueAttributesCommand, GetQueueUrlCommand, PurgeQueueCommand } from '@aws-sdk/client-sqs';
import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { awsErrorFields, hasAwsErrorCode } from '../aws/aws-error';
import { AwsClients } from '../aws/aws-clients.service';
import { AppConfig } from '../config/app-config';
import { Metrics } from '../metrics/metrics.service';
import { QueueStatsDto } from './dto/internal.dto';

const NO_QUEUE = ['QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue'];

interface Counts {
  visible: number;
  inFlight: number;
  delayed: number;
}

/** How long a scrape waits for the queues' numbers (Prometheus gives up on a scrape after 10 s by default). */
const SCRAPE_TIMEOUT_MS = 3000;

/** The event queues of every region, as operators see them (sqsStats, purgeQueues, /metrics). */
@Injectable()
export class QueuesService implements OnModuleInit {
  private readonly log = new Logger(QueuesService.name);

  constructor(
    private readonly aws: AwsClients,
    private readonly config: AppConfig,
    private readonly metrics: Metrics,
  ) {}

  /**
   * Gauges per region, read at scrape time: messages waiting, in flight (received, not yet deleted) and
   * in the dead-letter queue. A region whose queue cannot be read in time has no sample.
   */
  onModuleInit(): void {
    let scrape: Promise<QueueStatsDto[]> | null = null;
    // One set of SQS calls per scrape, shared by the three gauges.
    const stats = (): Promise<QueueStatsDto[]> => {
      scrape ??= this.statsWithin(SCRAPE_TIMEOUT_MS).finally(() => setTimeout(() => (scrape = null), 100));
      return scrape;
    };
    const gauge = (name: string, help: string, value: (s: QueueStatsDto) => number | null): void => {
      this.metrics.gauge(name, help, ['region'], async (set) => {
        for (const s of await stats()) {
          const v = value(s);
          if (v !== null) set({ region: s.region }, v);
        }
      });
    };
    gauge('queue_messages_visible', "Messages waiting in each region's events queue", (s) => s.visible);
    gauge(
      'queue_messages_in_flight',
      "Messages received from each region's events queue, not yet deleted",
      (s) => s.inFlight,
    );
    gauge('queue_dead_letter_messages', "Messages in each region's dead-letter queue", (s) => s.deadLettered);
  }

  private async statsWithin(ms: number): Promise<QueueStatsDto[]> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<QueueStatsDto[]>((resolve) => {
      timer = setTimeout(() => resolve([]), ms);
    });
    try {
      return await Promise.race([this.stats(), late]);
    } finally {
      clearTimeout(timer);
    }
  }

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
