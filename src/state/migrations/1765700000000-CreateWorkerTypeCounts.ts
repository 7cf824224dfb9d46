import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Counts of instances and spot requests per (worker type, kind, state, instance type), kept by
 * triggers in the transactions that change the rows, so that workerTypeStats reads a handful of rows
 * instead of a worker type's thousands (SPEC §3 counts) and is still exact when it reads.
 *
 * Every writer is covered without knowing it: statement-level triggers with transition tables see
 * each statement's inserted, updated and deleted rows (an `INSERT … ON CONFLICT DO UPDATE` fires both
 * its insert and its update trigger), and a TRUNCATE forgets the counts of the truncated table.
 *
 * A single counter row per key would be a hot row: every event transaction of a busy worker type
 * would wait on it until the previous one commits, and two transactions touching two keys in
 * opposite orders would deadlock. So each session adds its changes to rows of its own *slot*, claimed
 * once per session with a session-level advisory lock; no two live sessions share a slot, so no
 * transaction ever waits on another's count. A count is the sum over the slots; a slot's own row may
 * be negative (one session added an instance, another removed it). A slot freed by a closed
 * connection is claimed by the next new one, so the table stays at most
 * (keys ever seen) × (most sessions writing at once) rows. Past COUNT_SLOTS sessions, the rest share
 * slot 0: still exact, only no longer free of waits.
 */
/** Classid of the two-key advisory locks (`objsubid` 2 in pg_locks) that hold the count slots, one per key. */
export const COUNT_SLOT_LOCK_CLASS = 17657;
export const COUNT_SLOTS = 256;

export class CreateWorkerTypeCounts1765700000000 implements MigrationInterface {
  name = 'CreateWorkerTypeCounts1765700000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "worker_type_counts" (
        "worker_type" text NOT NULL,
        "kind" text NOT NULL,
        "state" text NOT NULL,
        "instance_type" text NOT NULL,
        "slot" integer NOT NULL,
        "count" bigint NOT NULL,
        CONSTRAINT "worker_type_counts_pkey" PRIMARY KEY ("worker_type", "kind", "state", "instance_type", "slot")
      )`);

    // The setting remembers the slot for the session; it is lost when the transaction that set it rolls
    // back while the lock is kept, hence the look in pg_locks before claiming another.
    await q.query(`
      CREATE FUNCTION worker_type_count_slot() RETURNS integer LANGUAGE plpgsql AS $$
      DECLARE
        s integer := nullif(current_setting('ec2_manager.count_slot', true), '')::integer;
      BEGIN
        IF s IS NOT NULL THEN
          RETURN s;
        END IF;
        SELECT objid::integer INTO s FROM pg_locks
         WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted
           AND classid = ${COUNT_SLOT_LOCK_CLASS} AND objsubid = 2
         LIMIT 1;
        IF s IS NULL THEN
          FOR i IN 1..${COUNT_SLOTS} LOOP
            IF pg_try_advisory_lock(${COUNT_SLOT_LOCK_CLASS}, i) THEN
              s := i;
              EXIT;
            END IF;
          END LOOP;
        END IF;
        s := coalesce(s, 0);
        PERFORM set_config('ec2_manager.count_slot', s::text, false);
        RETURN s;
      END $$`);

    // TG_ARGV[0] is the kind; both tables name the counted columns alike.
    await q.query(`
      CREATE FUNCTION worker_type_count_rows() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        k text := TG_ARGV[0];
        s integer := worker_type_count_slot();
      BEGIN
        IF TG_OP = 'INSERT' THEN
          INSERT INTO worker_type_counts AS c (worker_type, kind, state, instance_type, slot, count)
          SELECT worker_type, k, state, instance_type, s, count(*) FROM new_rows
           GROUP BY worker_type, state, instance_type ORDER BY 1, 3, 4
          ON CONFLICT (worker_type, kind, state, instance_type, slot) DO UPDATE SET count = c.count + EXCLUDED.count;
        ELSIF TG_OP = 'DELETE' THEN
          INSERT INTO worker_type_counts AS c (worker_type, kind, state, instance_type, slot, count)
          SELECT worker_type, k, state, instance_type, s, -count(*) FROM old_rows
           GROUP BY worker_type, state, instance_type ORDER BY 1, 3, 4
          ON CONFLICT (worker_type, kind, state, instance_type, slot) DO UPDATE SET count = c.count + EXCLUDED.count;
        ELSE
          INSERT INTO worker_type_counts AS c (worker_type, kind, state, instance_type, slot, count)
          SELECT worker_type, k, state, instance_type, s, sum(d) FROM (
            SELECT worker_type, state, instance_type, 1 AS d FROM new_rows
            UNION ALL
            SELECT worker_type, state, instance_type, -1 FROM old_rows
          ) changed
           GROUP BY worker_type, state, instance_type HAVING sum(d) <> 0 ORDER BY 1, 3, 4
          ON CONFLICT (worker_type, kind, state, instance_type, slot) DO UPDATE SET count = c.count + EXCLUDED.count;
        END IF;
        RETURN NULL;
      END $$`);

    await q.query(`
      CREATE FUNCTION worker_type_count_forget() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        DELETE FROM worker_type_counts WHERE kind = TG_ARGV[0];
        RETURN NULL;
      END $$`);

    // No write may fall between the triggers' start and the initial count.
    await q.query(`LOCK TABLE "instances", "spot_requests" IN SHARE ROW EXCLUSIVE MODE`);
    for (const [table, kind] of [
      ['instances', 'instance'],
      ['spot_requests', 'spot-request'],
    ]) {
      await q.query(`
        CREATE TRIGGER "${table}_count_insert" AFTER INSERT ON "${table}" REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION worker_type_count_rows('${kind}')`);
      await q.query(`
        CREATE TRIGGER "${table}_count_update" AFTER UPDATE ON "${table}"
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION worker_type_count_rows('${kind}')`);
      await q.query(`
        CREATE TRIGGER "${table}_count_delete" AFTER DELETE ON "${table}" REFERENCING OLD TABLE AS old_rows
        FOR EACH STATEMENT EXECUTE FUNCTION worker_type_count_rows('${kind}')`);
      await q.query(`
        CREATE TRIGGER "${table}_count_truncate" AFTER TRUNCATE ON "${table}"
        FOR EACH STATEMENT EXECUTE FUNCTION worker_type_count_forget('${kind}')`);
      await q.query(
        `INSERT INTO worker_type_counts (worker_type, kind, state, instance_type, slot, count)
         SELECT worker_type, $1, state, instance_type, 0, count(*) FROM "${table}" GROUP BY worker_type, state, instance_type`,
        [kind],
      );
    }
  }

  public async down(q: QueryRunner): Promise<void> {
    for (const table of ['instances', 'spot_requests']) {
      for (const op of ['insert', 'update', 'delete', 'truncate']) {
        await q.query(`DROP TRIGGER "${table}_count_${op}" ON "${table}"`);
      }
    }
    await q.query(`DROP FUNCTION worker_type_count_forget()`);
    await q.query(`DROP FUNCTION worker_type_count_rows()`);
    await q.query(`DROP FUNCTION worker_type_count_slot()`);
    await q.query(`DROP TABLE "worker_type_counts"`);
  }
}
