import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateStateTables1764000000000 implements MigrationInterface {
  name = 'CreateStateTables1764000000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "instances" (
        "region" text NOT NULL,
        "id" text NOT NULL,
        "worker_type" text NOT NULL,
        "az" text NOT NULL,
        "instance_type" text NOT NULL,
        "state" text NOT NULL,
        "spot_request_id" text,
        "image_id" text NOT NULL,
        "launched" TIMESTAMP WITH TIME ZONE NOT NULL,
        "last_event" TIMESTAMP WITH TIME ZONE NOT NULL,
        "touched" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "instances_pkey" PRIMARY KEY ("region", "id")
      )`);
    await q.query(`CREATE INDEX "instances_worker_type_idx" ON "instances" ("worker_type")`);
    await q.query(`CREATE INDEX "instances_spot_request_idx" ON "instances" ("region", "spot_request_id")`);

    await q.query(`
      CREATE TABLE "spot_requests" (
        "region" text NOT NULL,
        "id" text NOT NULL,
        "worker_type" text NOT NULL,
        "az" text NOT NULL,
        "instance_type" text NOT NULL,
        "state" text NOT NULL,
        "status" text NOT NULL,
        "image_id" text NOT NULL,
        "created" TIMESTAMP WITH TIME ZONE NOT NULL,
        "touched" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "spot_requests_pkey" PRIMARY KEY ("region", "id")
      )`);
    await q.query(`CREATE INDEX "spot_requests_worker_type_idx" ON "spot_requests" ("worker_type")`);
    await q.query(`CREATE INDEX "spot_requests_poll_idx" ON "spot_requests" ("state", "status")`);

    await q.query(`
      CREATE TABLE "cloudwatch_log" (
        "id" text NOT NULL,
        "region" text NOT NULL,
        "state" text NOT NULL,
        "generated" TIMESTAMP WITH TIME ZONE NOT NULL,
        "received" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "cloudwatch_log_pkey" PRIMARY KEY ("id", "region", "state", "generated")
      )`);

    await q.query(`
      CREATE TABLE "ami_usage" (
        "region" text NOT NULL,
        "id" text NOT NULL,
        "last_used" TIMESTAMP WITH TIME ZONE NOT NULL,
        CONSTRAINT "ami_usage_pkey" PRIMARY KEY ("region", "id")
      )`);

    await q.query(`
      CREATE TABLE "ebs_usage" (
        "region" text NOT NULL,
        "volume_type" text NOT NULL,
        "state" text NOT NULL,
        "total_count" integer NOT NULL,
        "total_gb" bigint NOT NULL,
        "touched" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "ebs_usage_pkey" PRIMARY KEY ("region", "volume_type", "state")
      )`);

    await q.query(`
      CREATE TABLE "termination_notices" (
        "region" text NOT NULL,
        "instance_id" text NOT NULL,
        "kind" text NOT NULL,
        "action" text,
        "not_before" TIMESTAMP WITH TIME ZONE,
        "received" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "termination_notices_pkey" PRIMARY KEY ("region", "instance_id", "kind"),
        CONSTRAINT "termination_notices_instance_fk" FOREIGN KEY ("region", "instance_id")
          REFERENCES "instances" ("region", "id") ON DELETE CASCADE ON UPDATE NO ACTION
      )`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "termination_notices"`);
    await q.query(`DROP TABLE "ebs_usage"`);
    await q.query(`DROP TABLE "ami_usage"`);
    await q.query(`DROP TABLE "cloudwatch_log"`);
    await q.query(`DROP TABLE "spot_requests"`);
    await q.query(`DROP TABLE "instances"`);
  }
}
