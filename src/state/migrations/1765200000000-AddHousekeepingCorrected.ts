import { MigrationInterface, QueryRunner } from 'typeorm';

/** Housekeeping corrects rows whose state lags EC2's (SPEC §6.3) and reports how many. */
export class AddHousekeepingCorrected1765200000000 implements MigrationInterface {
  name = 'AddHousekeepingCorrected1765200000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "housekeeping_outcomes" ADD "corrected_instances" integer NOT NULL DEFAULT 0`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "housekeeping_outcomes" DROP COLUMN "corrected_instances"`);
  }
}
