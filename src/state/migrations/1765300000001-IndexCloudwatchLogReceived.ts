import { MigrationInterface, QueryRunner } from 'typeorm';

/** The event log is pruned by when an event was received (HISTORY_RETENTION_DAYS, SPEC §9). */
export class IndexCloudwatchLogReceived1765300000001 implements MigrationInterface {
  name = 'IndexCloudwatchLogReceived1765300000001';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX "cloudwatch_log_received_idx" ON "cloudwatch_log" ("received")`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "cloudwatch_log_received_idx"`);
  }
}
