import { Injectable } from '@nestjs/common';
import { SqsService } from '@ssut/nestjs-sqs';
import { withTimeout } from '../common/timeout';

/** Within the 3 s a readiness probe may take (SPEC §9). */
const TIMEOUT_MS = 2000;

/** Readiness of the queues this replica consumes (SPEC §9: each region's queue reachable). */
@Injectable()
export class QueueHealth {
  constructor(private readonly sqs: SqsService) {}

  /** One line per queue that does not answer; empty when all do. */
  async problems(): Promise<string[]> {
    // A queue with several consumers (SQS_CONSUMERS_PER_QUEUE) is asked once, through its first.
    const byUrl = new Map<string, string>();
    for (const [name, { instance }] of this.sqs.consumers) {
      const url = (instance as unknown as { queueUrl: string }).queueUrl;
      if (!byUrl.has(url)) byUrl.set(url, name);
    }
    const names = [...byUrl.values()];
    const results = await Promise.all(
      names.map(async (name) => {
        try {
          await withTimeout(this.sqs.getQueueAttributes(name), TIMEOUT_MS);
          return undefined;
        } catch (err) {
          return `${name}: ${err instanceof Error ? err.message : String(err)}`;
        }
      }),
    );
    return results.filter((r): r is string => r !== undefined);
  }
}
