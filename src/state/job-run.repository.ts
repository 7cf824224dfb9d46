import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { JobRun } from './entities';

/** One run as `job_runs` knows it: what a replica may write about its own run, and only that one. */
export interface JobRunToken {
  name: string;
  runner: string;
  /** The database's time, at full precision, as the run's identity. */
  started: string;
}

@Injectable()
export class JobRunRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Records the start of a run unless one that *finished* started less than `minGapSeconds` ago (on
   * any replica): every replica ticks on its own timer, and without this check a job would run once
   * per replica per interval. A run that never finished (its replica crashed, or it was fenced after
   * losing the lock) does not count: the job must not wait most of an interval because of it. Call it
   * while holding the job's leader lock (so no other run is going). Returns the run's token, or null
   * when the run must not go ahead.
   */
  async start(name: string, runner: string, minGapSeconds: number, tx?: EntityManager): Promise<JobRunToken | null> {
    const rows: { started: string }[] = await (tx ?? this.db.manager).query(
      `INSERT INTO job_runs (name, started, finished, ok, error, runner) VALUES ($1, clock_timestamp(), NULL, NULL, NULL, $2)
       ON CONFLICT (name) DO UPDATE SET started = EXCLUDED.started, finished = NULL, ok = NULL, error = NULL,
         runner = EXCLUDED.runner
       WHERE job_runs.finished IS NULL OR job_runs.started <= clock_timestamp() - make_interval(secs => $3)
       RETURNING started::text AS started`,
      [name, runner, minGapSeconds],
    );
    return rows.length === 1 ? { name, runner, started: rows[0].started } : null;
  }

  /**
   * Records how the run ended. Only the run of `token` is updated: a fenced run finishing late must
   * not overwrite the record of the run that took over.
   */
  async finish(token: JobRunToken, ok: boolean, error: string | null, tx?: EntityManager): Promise<void> {
    await (tx ?? this.db.manager).query(
      `UPDATE job_runs SET finished = clock_timestamp(), ok = $4, error = $5,
         last_succeeded = CASE WHEN $4 THEN clock_timestamp() ELSE last_succeeded END
       WHERE name = $1 AND runner = $2 AND started = $3::timestamptz`,
      [token.name, token.runner, token.started, ok, error],
    );
  }

  /** A run stopped before its end (fenced): not finished, so it does not hold the next run back. */
  async abort(token: JobRunToken, reason: string, tx?: EntityManager): Promise<void> {
    await (tx ?? this.db.manager).query(
      `UPDATE job_runs SET finished = NULL, ok = false, error = $4
       WHERE name = $1 AND runner = $2 AND started = $3::timestamptz`,
      [token.name, token.runner, token.started, `aborted: ${reason}`],
    );
  }

  /** Seconds since each job last succeeded (on any replica), by the database's clock. */
  async secondsSinceSuccess(tx?: EntityManager): Promise<{ name: string; seconds: number }[]> {
    const rows: { name: string; seconds: string }[] = await (tx ?? this.db.manager).query(
      `SELECT name, EXTRACT(EPOCH FROM clock_timestamp() - last_succeeded) AS seconds
       FROM job_runs WHERE last_succeeded IS NOT NULL ORDER BY name`,
    );
    return rows.map((r) => ({ name: r.name, seconds: Number(r.seconds) }));
  }

  find(name: string, tx?: EntityManager): Promise<JobRun | null> {
    return (tx ?? this.db.manager).findOne(JobRun, { where: { name } });
  }
}
