import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateFailedSpotRequests1764300000000 implements MigrationInterface {
  name = 'CreateFailedSpotRequests1764300000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "failed_spot_requests" (
        "region" text NOT NULL,
        "id" text NOT NULL,
        "worker_type" text NOT NULL,
        "az" text NOT NULL,
        "instance_type" text NOT NULL,
        "state" text NOT NULL,
        "status" text NOT NULL,
        "failed" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "failed_spot_requests_pkey" PRIMARY KEY ("region", "id")
      )`);
    await q.query(
      `CREATE INDEX "failed_spot_requests_worker_type_idx" ON "failed_spot_requests" ("worker_type", "failed")`,
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "failed_spot_requests"`);
  }
}
