import { Injectable, Logger } from '@nestjs/common';
import { awsErrorFields } from '../aws/aws-error';
import { reportError, reportMessage } from '../logging/report';
import { DatabaseStatusService } from '../state/database-status.service';

/** Back-off of a failing queue's receives (SPEC §4): 1 s, doubling, at most 60 s. */
export const RECEIVE_BACKOFF_MS = { first: 1000, max: 60000 } as const;

interface QueueState {
  region: string;
  /** SQS errors since the queue last answered; 0 while it answers. */
  failures: number;
  failingSince: number;
  /** Resolves the back-off wait early (shutdown). */
  wake?: () => void;
}

/**
 * What each consumer does before and after a receive (SPEC §4). Before: wait while the database is
 * down, so no delivery is charged against `maxReceiveCount` for our own outage, and back off while the
 * queue fails. After a receive that worked: note the recovery. Errors of a queue are logged and
 * reported once when it starts failing and once when it recovers, with the count in between.
 */
@Injectable()
export class ReceiveGates {
  private readonly log = new Logger('EventListener');
  private readonly queues = new Map<string, QueueState>();
  private stopping = false;
  private stopped!: () => void;
  private readonly shutdown = new Promise<void>((resolve) => (this.stopped = resolve));

  constructor(private readonly database: DatabaseStatusService) {}

  async beforeReceive(queue: string): Promise<void> {
    const state = this.queues.get(queue);
    if (state && state.failures > 0 && !this.stopping) {
      const ms = Math.min(RECEIVE_BACKOFF_MS.max, RECEIVE_BACKOFF_MS.first * 2 ** (state.failures - 1));
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        state.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      state.wake = undefined;
    }
    await Promise.race([this.database.whenAvailable(), this.shutdown]);
  }

  /** A receive answered: the queue works (again). */
  afterReceive(queue: string): void {
    const state = this.queues.get(queue);
    if (!state || state.failures === 0) return;
    const fields = {
      region: state.region,
      queue,
      failedCalls: state.failures,
      failingMs: Date.now() - state.failingSince,
    };
    state.failures = 0;
    this.log.log({ msg: 'queue answers again', ...fields });
    reportMessage(`ec2-manager: queue ${queue} answers again`, {
      level: 'info',
      tags: { region: state.region, queue, stage: 'consumer' },
      extra: fields,
      cause: `queue recovered ${queue}`,
    });
  }

  /** An SQS call of the consumer failed (receive, delete, visibility change). */
  sqsFailed(region: string, queue: string, err: unknown): void {
    if (this.stopping) {
      this.log.debug({ msg: 'queue consumer stopped', region, queue, err });
      return;
    }
    const state = this.queues.get(queue) ?? { region, failures: 0, failingSince: 0 };
    this.queues.set(queue, state);
    if (state.failures++ > 0) return;
    state.failingSince = Date.now();
    this.log.error({ msg: 'queue failing; receives back off until it answers', region, queue, ...awsErrorFields(err) });
    reportError(err, { tags: { region, queue, stage: 'consumer' }, cause: `queue failing ${queue}` });
  }

  /** The batch handler itself threw: a bug, not the queue. The batch stays for redelivery. */
  handlerFailed(region: string, queue: string, err: unknown): void {
    this.log.error({ msg: 'handling a batch failed; left for redelivery', region, queue, err });
    reportError(err, { tags: { region, queue, stage: 'consumer' } });
  }

  /** From now on a failed receive is the shutdown cutting a long poll short, and no wait may hold it up. */
  shuttingDown(): void {
    this.stopping = true;
    this.stopped();
    for (const state of this.queues.values()) state.wake?.();
  }
}
