import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Fleet launching and worker-type policy (SPEC §11) and launch outcomes (SPEC §12): policies, the
 * reservations that keep concurrent launches under `maxInstances`, quota cooldowns beside capacity
 * cooldowns (which gain a lifecycle: spot and on-demand capacity run out apart), our launch templates,
 * the stored answers of fleet launches, and every launch attempt's outcome per pool.
 */
export class CreateFleetTables1765500000000 implements MigrationInterface {
  name = 'CreateFleetTables1765500000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "worker_type_policies" (
        "worker_type" text NOT NULL,
        "max_instances" integer,
        "max_instance_life_hours" double precision,
        "allowed_instance_types" text array,
        "updated" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "worker_type_policies_pkey" PRIMARY KEY ("worker_type")
      )`);
    await q.query(`
      CREATE TABLE "launch_reservations" (
        "id" uuid NOT NULL,
        "worker_type" text NOT NULL,
        "count" integer NOT NULL,
        "expires" TIMESTAMP WITH TIME ZONE NOT NULL,
        CONSTRAINT "launch_reservations_pkey" PRIMARY KEY ("id")
      )`);
    await q.query(`CREATE INDEX "launch_reservations_worker_type_idx" ON "launch_reservations" ("worker_type")`);
    await q.query(`
      CREATE TABLE "launch_outcomes" (
        "id" BIGSERIAL NOT NULL,
        "at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "worker_type" text NOT NULL,
        "region" text NOT NULL,
        "az" text NOT NULL,
        "instance_type" text NOT NULL,
        "lifecycle" text NOT NULL,
        "endpoint" text NOT NULL,
        "outcome" text NOT NULL,
        "count" integer NOT NULL,
        "code" text,
        "message" text,
        "client_token" text,
        CONSTRAINT "launch_outcomes_pkey" PRIMARY KEY ("id")
      )`);
    await q.query(`CREATE INDEX "launch_outcomes_at_idx" ON "launch_outcomes" ("at")`);
    await q.query(`CREATE INDEX "launch_outcomes_worker_type_idx" ON "launch_outcomes" ("worker_type", "at")`);
    await q.query(`
      CREATE TABLE "quota_cooldowns" (
        "region" text NOT NULL,
        "lifecycle" text NOT NULL,
        "until" TIMESTAMP WITH TIME ZONE NOT NULL,
        "reason" text NOT NULL,
        "message" text NOT NULL,
        "worker_type" text NOT NULL,
        "created" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "quota_cooldowns_pkey" PRIMARY KEY ("region", "lifecycle")
      )`);
    await q.query(`
      CREATE TABLE "launch_templates" (
        "region" text NOT NULL,
        "name" text NOT NULL,
        "template_id" text NOT NULL,
        "worker_type" text NOT NULL,
        "created" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "last_used" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "launch_templates_pkey" PRIMARY KEY ("region", "name")
      )`);
    await q.query(`
      CREATE TABLE "fleet_launches" (
        "region" text NOT NULL,
        "client_token" text NOT NULL,
        "worker_type" text NOT NULL,
        "body_hash" text NOT NULL,
        "answer" jsonb NOT NULL,
        "created" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "fleet_launches_pkey" PRIMARY KEY ("region", "client_token")
      )`);
    // Every cooldown so far came from the spot poller: spot capacity.
    await q.query(`ALTER TABLE "capacity_cooldowns" ADD "lifecycle" text NOT NULL DEFAULT 'spot'`);
    await q.query(`ALTER TABLE "capacity_cooldowns" ALTER COLUMN "lifecycle" DROP DEFAULT`);
    await q.query(`ALTER TABLE "capacity_cooldowns" DROP CONSTRAINT "capacity_cooldowns_pkey"`);
    await q.query(
      `ALTER TABLE "capacity_cooldowns" ADD CONSTRAINT "capacity_cooldowns_pkey" PRIMARY KEY ("region", "az", "instance_type", "lifecycle")`,
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM "capacity_cooldowns" WHERE "lifecycle" <> 'spot'`);
    await q.query(`ALTER TABLE "capacity_cooldowns" DROP CONSTRAINT "capacity_cooldowns_pkey"`);
    await q.query(`ALTER TABLE "capacity_cooldowns" DROP COLUMN "lifecycle"`);
    await q.query(
      `ALTER TABLE "capacity_cooldowns" ADD CONSTRAINT "capacity_cooldowns_pkey" PRIMARY KEY ("region", "az", "instance_type")`,
    );
    for (const t of [
      'fleet_launches',
      'launch_templates',
      'quota_cooldowns',
      'launch_outcomes',
      'launch_reservations',
      'worker_type_policies',
    ]) {
      await q.query(`DROP TABLE "${t}"`);
    }
  }
}
