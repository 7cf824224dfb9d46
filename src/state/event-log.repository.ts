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
   * Whether the instance was logged leaving the live states (`shutting-down`, `terminated`, ...) at or
   * after `since`: a later `pending`/`running` event for it is stale and must not bring it back.
   */
  async hasLeftSince(region: string, id: string, since: Date, tx?: EntityManager): Promise<boolean> {
    const rows: unknown[] = await (tx ?? this.db.manager).query(
      `SELECT 1 FROM cloudwatch_log WHERE region = $1 AND id = $2 AND generated >= $3
         AND state NOT IN ('pending', 'running') LIMIT 1`,
      [region, id, since],
    );
    return rows.length > 0;
  }

  /** Entries for one instance, oldest event first. */
  forInstance(region: string, id: string, tx?: EntityManager): Promise<CloudwatchLogEntry[]> {
    return (tx ?? this.db.manager).find(CloudwatchLogEntry, {
      where: { region, id },
      order: { generated: 'ASC', state: 'ASC' },
    });
  }
}
