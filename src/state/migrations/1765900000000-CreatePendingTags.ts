import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Resources found untagged, waiting for the tagger (SPEC §2, issue #15): tagging is off the event path,
 * recorded in the adoption's own transaction and done in batches after its commit.
 */
export class CreatePendingTags1765900000000 implements MigrationInterface {
  name = 'CreatePendingTags1765900000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "pending_tags" (
        "region" text NOT NULL,
        "resource_id" text NOT NULL,
        "worker_type" text NOT NULL,
        "since" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "attempts" integer NOT NULL DEFAULT 0,
        "next_attempt" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "pending_tags_pkey" PRIMARY KEY ("region", "resource_id")
      )`);
    await q.query(`CREATE INDEX "pending_tags_next_attempt_idx" ON "pending_tags" ("next_attempt")`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "pending_tags"`);
  }
}
