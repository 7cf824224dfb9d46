import { Injectable } from '@nestjs/common';
import { SqsService } from '@ssut/nestjs-sqs';

const TIMEOUT_MS = 3000;

/** Readiness of the queues this replica consumes (SPEC §9: each region's queue reachable). */
@Injectable()
export class QueueHealth {
  constructor(private readonly sqs: SqsService) {}

  /** One line per queue that does not answer; empty when all do. */
  async problems(): Promise<string[]> {
    const names = [...this.sqs.consumers.keys()];
    const results = await Promise.all(
      names.map(async (name) => {
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            this.sqs.getQueueAttributes(name),
            new Promise((_, reject) => {
              timer = setTimeout(() => reject(new Error(`no answer in ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
            }),
          ]);
          return undefined;
        } catch (err) {
          return `${name}: ${err instanceof Error ? err.message : String(err)}`;
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    return results.filter((r): r is string => r !== undefined);
  }
}
