import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Pool, PoolClient } from 'pg';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';

export type LockedRun<T> = { acquired: true; result: T } | { acquired: false };

/**
 * Leadership among replicas sharing one database (SPEC §9): a session-level Postgres advisory lock,
 * taken with `pg_try_advisory_lock` on one pooled connection that is held for the whole run and
 * unlocked afterwards. If the replica dies, its connection closes and Postgres releases the lock,
 * so another replica takes over at its next tick.
 */
@Injectable()
export class LeaderLock {
  private readonly log = new Logger(LeaderLock.name);

  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Runs `fn` only if no other session holds the lock `name`; never waits for it. */
  async withLock<T>(name: string, fn: () => Promise<T>): Promise<LockedRun<T>> {
    const client = await this.pool().connect();
    let broken: Error | undefined;
    // A checked-out pg client has no error listener: without one, a dropped connection would crash the process.
    const onError = (err: Error): void => {
      broken = err;
      this.log.warn({ msg: 'leader lock connection lost', lock: name, err: err.message });
    };
    client.on('error', onError);
    try {
      const [{ locked }] = (
        await client.query<{ locked: boolean }>(`SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked`, [
          lockKey(name),
        ])
      ).rows;
      if (!locked) return { acquired: false };
      try {
        return { acquired: true, result: await fn() };
      } finally {
        try {
          await client.query(`SELECT pg_advisory_unlock(hashtextextended($1, 0))`, [lockKey(name)]);
        } catch (err) {
          // A connection we cannot unlock on must not go back to the pool still holding the lock.
          broken = err instanceof Error ? err : new Error(String(err));
          this.log.warn({
            msg: 'could not release leader lock; closing its connection',
            lock: name,
            err: broken.message,
          });
        }
      }
    } catch (err) {
      broken ??= isConnectionError(err) ? (err as Error) : undefined;
      throw err;
    } finally {
      // A broken connection may still emit its error after we let go of it: it keeps a listener for good.
      if (broken) client.on('error', () => undefined);
      client.off('error', onError);
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
