import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateJobTables1764100000000 implements MigrationInterface {
  name = 'CreateJobTables1764100000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "capacity_cooldowns" (
        "region" text NOT NULL,
        "az" text NOT NULL,
        "instance_type" text NOT NULL,
        "until" TIMESTAMP WITH TIME ZONE NOT NULL,
        "reason" text NOT NULL,
        "worker_type" text NOT NULL,
        "spot_request_id" text NOT NULL,
        "created" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "capacity_cooldowns_pkey" PRIMARY KEY ("region", "az", "instance_type")
      )`);

    await q.query(`
      CREATE TABLE "job_runs" (
        "name" text NOT NULL,
        "started" TIMESTAMP WITH TIME ZONE NOT NULL,
        "finished" TIMESTAMP WITH TIME ZONE,
        "ok" boolean,
        "error" text,
        "runner" text NOT NULL,
        CONSTRAINT "job_runs_pkey" PRIMARY KEY ("name")
      )`);

    await q.query(`
      CREATE TABLE "housekeeping_outcomes" (
        "region" text NOT NULL,
        "started" TIMESTAMP WITH TIME ZONE NOT NULL,
        "finished" TIMESTAMP WITH TIME ZONE NOT NULL,
        "duration_ms" integer NOT NULL,
        "missing_instances" integer NOT NULL,
        "missing_spot_requests" integer NOT NULL,
        "extraneous_instances" integer NOT NULL,
        "extraneous_spot_requests" integer NOT NULL,
        "zombies_killed" integer NOT NULL,
        "tagged" integer NOT NULL,
        "error" text,
        CONSTRAINT "housekeeping_outcomes_pkey" PRIMARY KEY ("region")
      )`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "housekeeping_outcomes"`);
    await q.query(`DROP TABLE "job_runs"`);
    await q.query(`DROP TABLE "capacity_cooldowns"`);
  }
}
