import { Injectable, Logger } from '@nestjs/common';
import { awsErrorFields } from '../aws/aws-error';
import { reportError, reportMessage } from '../logging/report';
import { DatabaseStatusService } from '../state/database-status.service';

/** Back-off of a failing queue's receives (SPEC §4): 1 s, doubling, at most 60 s. */
export const RECEIVE_BACKOFF_MS = { first: 1000, max: 60000 } as const;

interface QueueState {
  region: string;
  /** SQS errors since the queue last answered, from all its consumers; 0 while it answers. */
  failures: number;
  failingSince: number;
  /** Per consumer: its SQS errors in a row, which size its back-off. */
  backoff: Map<string, number>;
  /** Resolve the back-off waits early (shutdown, or the queue answering another consumer). */
  wakes: Set<() => void>;
}

/**
 * What each consumer does before and after a receive (SPEC §4). Before: wait while the database is
 * down, so no delivery is charged against `maxReceiveCount` for our own outage, and back off while the
 * queue fails. After a receive that worked: note the recovery. Errors of a queue are logged and
 * reported once when it starts failing and once when it recovers, with the count in between, however
 * many consumers it has (`SQS_CONSUMERS_PER_QUEUE`): each backs off on its own errors, and the first
 * to get an answer wakes the others.
 */
@Injectable()
export class ReceiveGates {
  private readonly log = new Logger('EventListener');
  private readonly queues = new Map<string, QueueState>();
  private stopping = false;
  private stopped!: () => void;
  private readonly shutdown = new Promise<void>((resolve) => (this.stopped = resolve));

  constructor(private readonly database: DatabaseStatusService) {}

  async beforeReceive(queue: string, consumer: string): Promise<void> {
    const state = this.queues.get(queue);
    const failures = state?.backoff.get(consumer) ?? 0;
    if (state && failures > 0 && !this.stopping) {
      const ms = Math.min(RECEIVE_BACKOFF_MS.max, RECEIVE_BACKOFF_MS.first * 2 ** (failures - 1));
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          state.wakes.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, ms);
        state.wakes.add(wake);
      });
    }
    await Promise.race([this.database.whenAvailable(), this.shutdown]);
  }

  /** A receive answered: the queue works (again). */
  afterReceive(queue: string, consumer: string): void {
    const state = this.queues.get(queue);
    state?.backoff.delete(consumer);
    if (!state || state.failures === 0) return;
    const fields = {
      region: state.region,
      queue,
      failedCalls: state.failures,
      failingMs: Date.now() - state.failingSince,
    };
    state.failures = 0;
    for (const wake of [...state.wakes]) wake();
    this.log.log({ msg: 'queue answers again', ...fields });
    reportMessage(`ec2-manager: queue ${queue} answers again`, {
      level: 'info',
      tags: { region: state.region, queue, stage: 'consumer' },
      extra: fields,
      cause: `queue recovered ${queue}`,
    });
  }

  /** An SQS call of a consumer failed (receive, delete, visibility change). */
  sqsFailed(region: string, queue: string, consumer: string, err: unknown): void {
    if (this.stopping) {
      this.log.debug({ msg: 'queue consumer stopped', region, queue, consumer, err });
      return;
    }
    const state = this.queues.get(queue) ?? {
      region,
      failures: 0,
      failingSince: 0,
      backoff: new Map(),
      wakes: new Set(),
    };
    this.queues.set(queue, state);
    state.backoff.set(consumer, (state.backoff.get(consumer) ?? 0) + 1);
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
    for (const state of this.queues.values()) for (const wake of [...state.wakes]) wake();
  }
}
