import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { LaunchOutcome } from './entities';
import { tableOf } from './table';

export type NewLaunchOutcome = Omit<LaunchOutcome, 'id' | 'at'>;

const OUTCOMES = tableOf(LaunchOutcome);
/** An outcome as we write it; the database numbers it and stamps its time. */
const OUTCOME_ROWS = OUTCOMES.rows('id', 'at');

/** Every launch attempt's outcome per pool (SPEC §12), written by the launch endpoints. */
@Injectable()
export class LaunchOutcomeRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async record(rows: readonly NewLaunchOutcome[], tx?: EntityManager): Promise<void> {
    if (rows.length === 0) return;
    await (tx ?? this.db.manager).query(
      `INSERT INTO launch_outcomes (${OUTCOME_ROWS.columns}, at)
       SELECT ${OUTCOME_ROWS.select}, clock_timestamp() FROM ${OUTCOME_ROWS.source()}`,
      OUTCOME_ROWS.values([...rows]),
    );
  }

  /** The outcomes of one worker type, newest first. */
  list(workerType: string, tx?: EntityManager): Promise<LaunchOutcome[]> {
    return (tx ?? this.db.manager).query(
      `SELECT ${OUTCOMES.select()} FROM launch_outcomes WHERE worker_type = $1 ORDER BY at DESC, id DESC`,
      [workerType],
    );
  }
}
