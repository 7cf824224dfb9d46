import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Pool, PoolClient } from 'pg';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';

export type LockedRun<T> = { acquired: true; result: T } | { acquired: false };

/** How often the lock's connection is checked while a run holds it, and how long a check may take. */
export interface LeaderLockTiming {
  checkEveryMs: number;
  checkTimeoutMs: number;
}

const DEFAULT_TIMING: LeaderLockTiming = { checkEveryMs: 2000, checkTimeoutMs: 5000 };

/**
 * The lock's connection was lost while a run held it: another replica may hold the lock now, so the
 * run must stop (SPEC §9 fencing). It is the reason of the run's AbortSignal.
 */
export class LeaderLockLostError extends Error {
  constructor(
    readonly lock: string,
    override readonly cause: Error,
  ) {
    super(`leader lock ${lock} lost: ${cause.message}`);
    this.name = 'LeaderLockLostError';
  }
}

/**
 * Leadership among replicas sharing one database (SPEC §9): a session-level Postgres advisory lock,
 * taken with `pg_try_advisory_lock` on one pooled connection that is held for the whole run and
 * unlocked afterwards. If the replica dies, its connection closes and Postgres releases the lock,
 * so another replica takes over at its next tick.
 *
 * The other way round, a replica whose lock connection breaks (the server ended it, the network cut
 * it, the database froze) no longer knows it leads: the run's AbortSignal aborts at once, and the run
 * must make no EC2 mutation and no state write after that. A break is noticed from the connection's
 * error event, and from a cheap query on it every few seconds that must answer in time (a silent
 * network partition or a frozen server emits no error).
 */
@Injectable()
export class LeaderLock {
  private readonly log = new Logger(LeaderLock.name);
  private timing: LeaderLockTiming = DEFAULT_TIMING;

  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** For tests that need a frozen server noticed sooner. */
  setTiming(timing: LeaderLockTiming): void {
    this.timing = timing;
  }

  /**
   * Runs `fn` only if no other session holds the lock `name`; never waits for it. `fn` gets a signal
   * that aborts when the lock is lost; a run that lost its lock rejects with LeaderLockLostError,
   * whatever `fn` did afterwards.
   */
  async withLock<T>(name: string, fn: (signal: AbortSignal) => Promise<T>): Promise<LockedRun<T>> {
    const client = await this.pool().connect();
    const fence = new AbortController();
    let broken: Error | undefined;
    const lose = (err: Error): void => {
      broken ??= err;
      if (fence.signal.aborted) return;
      fence.abort(new LeaderLockLostError(name, err));
      this.log.warn({ msg: 'leader lock connection lost; fencing the run', lock: name, err });
    };
    // A checked-out pg client has no error listener: without one, a dropped connection would crash the process.
    client.on('error', lose);
    let watch: { stop(): void } | undefined;
    try {
      const [{ locked }] = (
        await client.query<{ locked: boolean }>(`SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked`, [
          lockKey(name),
        ])
      ).rows;
      if (!locked) return { acquired: false };
      watch = this.watch(client, lose);
      try {
        const result = await fn(fence.signal);
        fence.signal.throwIfAborted();
        return { acquired: true, result };
      } catch (err) {
        if (fence.signal.aborted) throw fence.signal.reason;
        throw err;
      } finally {
        watch.stop();
        if (!fence.signal.aborted) broken ??= await this.unlock(client, name);
      }
    } catch (err) {
      if (!broken && isConnectionError(err)) broken = err as Error;
      throw err;
    } finally {
      watch?.stop();
      // A broken connection may still emit its error after we let go of it: it keeps a listener for good.
      if (broken) client.on('error', () => undefined);
      client.off('error', lose);
      release(client, broken);
    }
  }

  /** Whether some session (this one included) holds the lock now: for tests and diagnostics. */
  async isHeld(name: string): Promise<boolean> {
    const rows: { held: boolean }[] = await this.db.query(
      `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted
                        AND ((classid::bigint << 32) | objid::bigint) = hashtextextended($1, 0)) AS held`,
      [lockKey(name)],
    );
    return rows[0].held;
  }

  /** Returns why the lock could not be released: its connection must then be closed, not pooled. */
  private async unlock(client: PoolClient, name: string): Promise<Error | undefined> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        client.query(`SELECT pg_advisory_unlock(hashtextextended($1, 0))`, [lockKey(name)]),
        new Promise((_, reject) => {
          const ms = this.timing.checkTimeoutMs;
          timer = setTimeout(() => reject(new Error(`unlock did not answer within ${ms} ms`)), ms);
        }),
      ]);
      return undefined;
    } catch (err) {
      // A connection we cannot unlock on must not go back to the pool still holding the lock.
      this.log.warn({
        msg: 'could not release leader lock; closing its connection',
        lock: name,
        err,
      });
      return err instanceof Error ? err : new Error(String(err));
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Queries the lock's connection every `checkEveryMs`; a check that fails or does not answer within
   * `checkTimeoutMs` counts as losing the connection. Checks never overlap: pg queues queries on a
   * connection, and a hung one must not pile others up behind it.
   */
  private watch(client: PoolClient, lose: (err: Error) => void): { stop(): void } {
    const { checkEveryMs, checkTimeoutMs } = this.timing;
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    const check = (): void => {
      let answered = false;
      const deadline = setTimeout(() => {
        if (!answered && !stopped) lose(new Error(`lock connection did not answer within ${checkTimeoutMs} ms`));
      }, checkTimeoutMs);
      client.query('SELECT 1').then(
        () => {
          answered = true;
          clearTimeout(deadline);
          if (!stopped) timer = setTimeout(check, checkEveryMs);
        },
        (err: unknown) => {
          answered = true;
          clearTimeout(deadline);
          if (!stopped) lose(err instanceof Error ? err : new Error(String(err)));
        },
      );
    };
    timer = setTimeout(check, checkEveryMs);
    return {
      stop() {
        stopped = true;
        clearTimeout(timer);
      },
    };
  }

  private pool(): Pool {
    return (this.db.driver as PostgresDriver).master as Pool;
  }
}

function lockKey(name: string): string {
  return `ec2-manager:job:${name}`;
}

function isConnectionError(err: unknown): boolean {
  return (
    err instanceof Error && /Connection terminated|ECONNRESET|ECONNREFUSED|terminating connection/i.test(err.message)
  );
}

function release(client: PoolClient, broken: Error | undefined): void {
  // Releasing with an error destroys the connection instead of pooling it; the server then drops its locks.
  client.release(broken ?? false);
}
