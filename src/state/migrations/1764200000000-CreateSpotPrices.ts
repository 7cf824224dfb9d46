import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateSpotPrices1764200000000 implements MigrationInterface {
  name = 'CreateSpotPrices1764200000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "spot_prices" (
        "region" text NOT NULL,
        "zone" text NOT NULL,
        "instance_type" text NOT NULL,
        "price" double precision NOT NULL,
        "polled" TIMESTAMP WITH TIME ZONE NOT NULL,
        CONSTRAINT "spot_prices_pkey" PRIMARY KEY ("region", "zone", "instance_type")
      )`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "spot_prices"`);
  }
}
