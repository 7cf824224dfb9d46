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

  /** Entries for one instance, oldest event first. */
  forInstance(region: string, id: string, tx?: EntityManager): Promise<CloudwatchLogEntry[]> {
    return (tx ?? this.db.manager).find(CloudwatchLogEntry, {
      where: { region, id },
      order: { generated: 'ASC', state: 'ASC' },
    });
  }
}
