import { SetMetadata } from '@nestjs/common';
import type { JobName } from '../config/app-config';

export const JOB_METADATA = Symbol('job');

export interface JobOptions<T> {
  /** Fields for the log line of a successful run. */
  summary?: (result: T) => Record<string, unknown>;
}

export interface JobDefinition<T = unknown> extends JobOptions<T> {
  name: JobName;
}

/**
 * Declares the method that does a periodic job's work, where that work lives. The one `JobScheduler`
 * finds it at boot and runs it every interval the configuration gives the job, on the replica holding
 * the job's leader lock (SPEC §9), never overlapping, timed and reported.
 *
 * The method gets an `AbortSignal` that aborts when this replica loses the lock: from then on it must
 * make no EC2 mutation (hand the signal to the EC2 calls) and no state write (`signal.throwIfAborted()`
 * before each).
 */
export function Job<T>(name: JobName, options: JobOptions<T> = {}) {
  const definition: JobDefinition<T> = { name, ...options };
  return (target: object, key: string | symbol, descriptor: { value?: (signal: AbortSignal) => Promise<T> }): void => {
    SetMetadata(JOB_METADATA, definition)(target, key, descriptor as PropertyDescriptor);
  };
}
