import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { CloudwatchLogEntry } from './entities';

export type NewLogEntry = Omit<CloudwatchLogEntry, 'received'>;

@Injectable()
export class EventLogRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Logs a state-change event; returns false for a duplicate delivery, which is logged once. */
  async log(entry: NewLogEntry, tx?: EntityManager): Promise<boolean> {
    const rows: unknown[] = await (tx ?? this.db.manager).query(
      `INSERT INTO cloudwatch_log (id, region, state, generated, received) VALUES ($1, $2, $3, $4, clock_timestamp())
       ON CONFLICT DO NOTHING RETURNING 1`,
      [entry.id, entry.region, entry.state, entry.generated],
    );
    return rows.length === 1;
  }

  /**
   * `log` as part of the caller's transaction, behind a savepoint: when it fails, the failure is
   * returned and the transaction goes on as if it had not been tried (SPEC §4: never blocks).
   */
  async logGuarded(entry: NewLogEntry, tx: EntityManager): Promise<{ logged: boolean; error?: unknown }> {
    await tx.query(`SAVEPOINT event_log`);
    try {
      const logged = await this.log(entry, tx);
      await tx.query(`RELEASE SAVEPOINT event_log`);
      return { logged };
    } catch (error) {
      await tx.query(`ROLLBACK TO SAVEPOINT event_log`);
      return { logged: false, error };
    }
  }

  /**
   * `logGuarded` for a batch's events in one statement. When that fails, each entry is tried alone, so
   * that one bad entry costs only its own line: the errors come back by entry index.
   */
  async logManyGuarded(entries: readonly NewLogEntry[], tx: EntityManager): Promise<Map<number, unknown>> {
    const errors = new Map<number, unknown>();
    if (entries.length === 0) return errors;
    await tx.query(`SAVEPOINT event_log`);
    try {
      await tx.query(
        `INSERT INTO cloudwatch_log (id, region, state, generated, received)
         SELECT id, region, state, generated, clock_timestamp()
         FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[]) AS e(id, region, state, generated)
         ON CONFLICT DO NOTHING`,
        [
          entries.map((e) => e.id),
          entries.map((e) => e.region),
          entries.map((e) => e.state),
          entries.map((e) => e.generated),
        ],
      );
      await tx.query(`RELEASE SAVEPOINT event_log`);
    } catch {
      await tx.query(`ROLLBACK TO SAVEPOINT event_log`);
      for (const [i, entry] of entries.entries()) {
        const { error } = await this.logGuarded(entry, tx);
        if (error !== undefined) errors.set(i, error);
      }
    }
    return errors;
  }

  /**
   * Whether the instance was logged leaving the live states (`shutting-down`, `terminated`, ...) at or
   * after `since`: a later `pending`/`running` event for it is stale and must not bring it back.
   */
  async hasLeftSince(region: string, id: string, since: Date, tx?: EntityManager): Promise<boolean> {
    return (await this.leftSince(region, [{ id, since }], tx)).has(id);
  }

  /** `hasLeftSince` for many instances of one region in one statement: the ids that have. */
  async leftSince(
    region: string,
    instances: readonly { id: string; since: Date }[],
    tx: EntityManager = this.db.manager,
  ): Promise<Set<string>> {
    if (instances.length === 0) return new Set();
    const rows: { id: string }[] = await tx.query(
      `SELECT DISTINCT q.id FROM unnest($2::text[], $3::timestamptz[]) AS q(id, since)
       WHERE EXISTS (SELECT 1 FROM cloudwatch_log l WHERE l.region = $1 AND l.id = q.id AND l.generated >= q.since
                       AND l.state NOT IN ('pending', 'running'))`,
      [region, instances.map((i) => i.id), instances.map((i) => i.since)],
    );
    return new Set(rows.map((r) => r.id));
  }

  /** Entries for one instance, oldest event first. */
  forInstance(region: string, id: string, tx?: EntityManager): Promise<CloudwatchLogEntry[]> {
    return (tx ?? this.db.manager).find(CloudwatchLogEntry, {
      where: { region, id },
      order: { generated: 'ASC', state: 'ASC' },
    });
  }
}
