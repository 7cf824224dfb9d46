import { MigrationInterface, QueryRunner } from 'typeorm';

/** When each job last succeeded, whatever its latest run did: for the "seconds since" gauge (SPEC §9). */
export class AddJobLastSucceeded1765300000000 implements MigrationInterface {
  name = 'AddJobLastSucceeded1765300000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "job_runs" ADD "last_succeeded" TIMESTAMP WITH TIME ZONE`);
    await q.query(`UPDATE "job_runs" SET "last_succeeded" = "finished" WHERE "ok"`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "job_runs" DROP COLUMN "last_succeeded"`);
  }
}
