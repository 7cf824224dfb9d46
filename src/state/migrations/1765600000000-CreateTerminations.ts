import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Why instances ended (SPEC §12), and on-demand prices (what an ended or running instance costs).
 *
 * Every removal of an instance row records its termination, whoever removes it (an event, housekeeping,
 * an API call, a job added later): a row trigger on `instances` writes it in the deleting transaction.
 * Its reason, in order:
 * - the cause the deleting transaction gave (`ec2_manager.leave_reason`, set by
 *   InstanceRepository for our own decisions: zombie, stopped, terminate-*, policy);
 * - a spot interruption notice on the instance (still there: the trigger runs before the notices'
 *   cascade);
 * - else `unresolved`: a job fetches EC2's StateReason later, off the event path.
 * `ec2_manager.leave_time` gives the event's time when an event removes it. Both settings are cleared
 * at the end of each DELETE statement, so that they never leak into a later one of the transaction.
 * The pool's price at that moment is kept beside it: prices move, the cost of the past should not.
 */
export class CreateTerminations1765600000000 implements MigrationInterface {
  name = 'CreateTerminations1765600000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "on_demand_prices" (
        "region" text NOT NULL,
        "instance_type" text NOT NULL,
        "price" double precision NOT NULL,
        "polled" TIMESTAMP WITH TIME ZONE NOT NULL,
        CONSTRAINT "on_demand_prices_pkey" PRIMARY KEY ("region", "instance_type")
      )`);
    await q.query(`
      CREATE TABLE "terminations" (
        "region" text NOT NULL,
        "instance_id" text NOT NULL,
        "worker_type" text NOT NULL,
        "instance_type" text NOT NULL,
        "az" text NOT NULL,
        "lifecycle" text NOT NULL,
        "launched" TIMESTAMP WITH TIME ZONE NOT NULL,
        "ended" TIMESTAMP WITH TIME ZONE NOT NULL,
        "reason" text NOT NULL,
        "code" text,
        "message" text,
        "hourly_price" double precision,
        "recorded" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "terminations_pkey" PRIMARY KEY ("region", "instance_id")
      )`);
    await q.query(
      `CREATE INDEX "terminations_worker_type_ended_idx" ON "terminations" ("worker_type", "ended", "region", "instance_id")`,
    );
    await q.query(`CREATE INDEX "terminations_reason_idx" ON "terminations" ("reason", "region", "ended")`);

    await q.query(`
      CREATE FUNCTION pool_hourly_price(region text, az text, instance_type text, lifecycle text)
      RETURNS double precision LANGUAGE sql STABLE AS $$
        SELECT CASE WHEN lifecycle = 'spot'
          THEN (SELECT p.price FROM spot_prices p WHERE p.region = $1 AND p.zone = $2 AND p.instance_type = $3)
          ELSE (SELECT p.price FROM on_demand_prices p WHERE p.region = $1 AND p.instance_type = $3)
        END
      $$`);
    await q.query(`
      CREATE FUNCTION record_termination() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        v_why text := nullif(current_setting('ec2_manager.leave_reason', true), '');
        v_at timestamptz := coalesce(
          nullif(current_setting('ec2_manager.leave_time', true), '')::timestamptz, clock_timestamp());
        v_lifecycle text := CASE WHEN OLD.spot_request_id IS NULL THEN 'on-demand' ELSE 'spot' END;
      BEGIN
        IF v_why IS NULL AND EXISTS (
          SELECT 1 FROM termination_notices
           WHERE region = OLD.region AND instance_id = OLD.id AND kind = 'spot-interruption'
        ) THEN
          v_why := 'spot-interruption';
        END IF;
        INSERT INTO terminations AS t (region, instance_id, worker_type, instance_type, az, lifecycle, launched, ended,
                                       reason, code, message, hourly_price, recorded)
        VALUES (OLD.region, OLD.id, OLD.worker_type, OLD.instance_type, OLD.az, v_lifecycle, OLD.launched, v_at,
                coalesce(v_why, 'unresolved'), NULL, NULL,
                pool_hourly_price(OLD.region, OLD.az, OLD.instance_type, v_lifecycle), clock_timestamp())
        ON CONFLICT (region, instance_id) DO UPDATE SET
          worker_type = EXCLUDED.worker_type, instance_type = EXCLUDED.instance_type, az = EXCLUDED.az,
          lifecycle = EXCLUDED.lifecycle, launched = EXCLUDED.launched, ended = EXCLUDED.ended,
          reason = EXCLUDED.reason, code = NULL, message = NULL, hourly_price = EXCLUDED.hourly_price,
          recorded = EXCLUDED.recorded;
        RETURN OLD;
      END $$`);
    await q.query(`
      CREATE FUNCTION clear_leave_cause() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM set_config('ec2_manager.leave_reason', '', true), set_config('ec2_manager.leave_time', '', true);
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER "instances_record_termination" BEFORE DELETE ON "instances"
      FOR EACH ROW EXECUTE FUNCTION record_termination()`);
    await q.query(`
      CREATE TRIGGER "instances_clear_leave_cause" AFTER DELETE ON "instances"
      FOR EACH STATEMENT EXECUTE FUNCTION clear_leave_cause()`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER "instances_clear_leave_cause" ON "instances"`);
    await q.query(`DROP TRIGGER "instances_record_termination" ON "instances"`);
    await q.query(`DROP FUNCTION clear_leave_cause()`);
    await q.query(`DROP FUNCTION record_termination()`);
    await q.query(`DROP FUNCTION pool_hourly_price(text, text, text, text)`);
    await q.query(`DROP TABLE "terminations"`);
    await q.query(`DROP TABLE "on_demand_prices"`);
  }
}
