import { MigrationInterface, QueryRunner } from 'typeorm';

/** Housekeeping terminates stopped instances of ours (SPEC §6.3b) and reports how many. */
export class AddHousekeepingStoppedKilled1765100000000 implements MigrationInterface {
  name = 'AddHousekeepingStoppedKilled1765100000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "housekeeping_outcomes" ADD "stopped_killed" integer NOT NULL DEFAULT 0`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "housekeeping_outcomes" DROP COLUMN "stopped_killed"`);
  }
}
