import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { JobRun } from './entities';

@Injectable()
export class JobRunRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Records the start of a run unless one started less than `minGapSeconds` ago (on any replica):
   * every replica ticks on its own timer, and without this check a job would run once per replica
   * per interval. Returns whether the run may go ahead. Call it while holding the job's leader lock.
   */
  async start(name: string, runner: string, minGapSeconds: number, tx?: EntityManager): Promise<boolean> {
    const rows: unknown[] = await (tx ?? this.db.manager).query(
      `INSERT INTO job_runs (name, started, finished, ok, error, runner) VALUES ($1, clock_timestamp(), NULL, NULL, NULL, $2)
       ON CONFLICT (name) DO UPDATE SET started = EXCLUDED.started, finished = NULL, ok = NULL, error = NULL,
         runner = EXCLUDED.runner
       WHERE job_runs.started <= clock_timestamp() - make_interval(secs => $3)
       RETURNING 1`,
      [name, runner, minGapSeconds],
    );
    return rows.length === 1;
  }

  async finish(name: string, ok: boolean, error: string | null, tx?: EntityManager): Promise<void> {
    await (tx ?? this.db.manager).query(
      `UPDATE job_runs SET finished = clock_timestamp(), ok = $2, error = $3 WHERE name = $1`,
      [name, ok, error],
    );
  }

  find(name: string, tx?: EntityManager): Promise<JobRun | null> {
    return (tx ?? this.db.manager).findOne(JobRun, { where: { name } });
  }
}
