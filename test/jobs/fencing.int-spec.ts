import type { InitializeHandlerOptions, InitializeMiddleware } from '@smithy/types';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { Ec2Clients } from '../../src/ec2/ec2-clients.service';
import { keyPairNameFor } from '../../src/ec2/naming';
import { JobRunRepository } from '../../src/state/job-run.repository';
import { AppHarness, createAppHarness, TEST_REGIONS } from '../app-harness';
import { waitFor } from '../jobs-support';

const HOURS = 3600;
const MUTATIONS = ['CreateTagsCommand', 'TerminateInstancesCommand', 'CancelSpotInstanceRequestsCommand'];
/** Every state table a housekeeping run may write. */
const AUDITED = ['instances', 'spot_requests', 'ebs_usage', 'ami_usage', 'housekeeping_outcomes', 'cloudwatch_log'];

/**
 * Watches one replica's EC2 clients: counts the mutations it sends (with their time), and holds the
 * answers of DescribeInstances until `release()`, so that its sweep works from a listing taken before
 * another replica changed things.
 */
function instrument(h: AppHarness): { mutations: { op: string; at: number }[]; release(): void } {
  const mutations: { op: string; at: number }[] = [];
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  for (const region of TEST_REGIONS) {
    const stack = h.get(Ec2Clients).client(region).middlewareStack as unknown as {
      add(middleware: InitializeMiddleware<object, object>, options: InitializeHandlerOptions): void;
    };
    stack.add(
      (next, context) => async (args) => {
        const op = String(context.commandName);
        if (MUTATIONS.includes(op)) mutations.push({ op, at: Date.now() });
        const out = await next(args);
        if (op === 'DescribeInstancesCommand') await gate;
        return out;
      },
      { step: 'initialize', name: 'testFencingProbe', override: true },
    );
  }
  return { mutations, release };
}

describe('a replica that loses its leader lock mid-run (SPEC §9 fencing)', () => {
  let base: AppHarness;
  let a: AppHarness;
  let b: AppHarness;
  const role = `replica_a_${randomBytes(4).toString('hex')}`;
  let admin: Client;
  let probe: ReturnType<typeof instrument> | undefined;

  beforeAll(async () => {
    // The database, the sandbox and the audit of who writes what; jobs off here.
    base = await createAppHarness({ sandbox: { clockSpeed: 0 } });
    admin = new Client({ connectionString: base.db.url });
    await admin.connect();
    await admin.query(`CREATE ROLE ${role} LOGIN SUPERUSER`);
    await admin.query(
      `CREATE TABLE test_write_audit (tbl text, op text, who text DEFAULT session_user, at timestamptz DEFAULT clock_timestamp());
       CREATE FUNCTION test_audit() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN INSERT INTO test_write_audit (tbl, op) VALUES (TG_TABLE_NAME, TG_OP); RETURN NULL; END $$;`,
    );
    for (const table of AUDITED) {
      await admin.query(
        `CREATE TRIGGER test_audit AFTER INSERT OR UPDATE OR DELETE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION test_audit()`,
      );
    }
  });
  afterAll(async () => {
    probe?.release();
    for (const h of [b, a]) {
      await h?.app.close().catch(() => undefined);
      await h?.sandbox.stop();
      await h?.db.drop();
    }
    await admin?.end();
    await base?.close();
    const cleanup = new Client({ connectionString: process.env.TEST_PG_ADMIN_URL });
    await cleanup.connect();
    await cleanup.query(`DROP ROLE IF EXISTS ${role}`).finally(() => cleanup.end());
  });

  it('should make no EC2 mutation and no state write after the loss, record the run aborted, and let another replica take over', async () => {
    const key = keyPairNameFor(base.config, 'fenced-wt');
    const region = TEST_REGIONS[0];
    const untagged = base.sandbox.control.seedInstances({ region, count: 3, keyName: key }).instanceIds;
    const zombies = base.sandbox.control.seedInstances({
      region,
      count: 1,
      keyName: key,
      ageSeconds: 100 * HOURS,
    }).instanceIds;

    const shared = {
      EC2_ENDPOINT: base.sandbox.endpoints.ec2,
      SQS_ENDPOINT: base.sandbox.endpoints.sqs,
      EVENTS_ENDPOINT: base.sandbox.endpoints.events,
      HOUSEKEEPING_SECONDS: 60,
    };
    const asRole = new URL(base.db.url);
    asRole.username = role;
    // Replica A leads: its first tick runs at start and waits in its DescribeInstances answer.
    a = await createAppHarness({
      env: { ...shared, DATABASE_URL: asRole.toString(), HOUSEKEEPING_ENABLED: true },
      init: false,
    });
    probe = instrument(a);
    await a.app.init();
    let lockPid: number | undefined;
    await waitFor(async () => {
      const { rows } = await admin.query<{ pid: number }>(
        `SELECT l.pid FROM pg_locks l JOIN pg_stat_activity s ON s.pid = l.pid
         WHERE l.locktype = 'advisory' AND l.granted AND s.usename = $1
           AND ((l.classid::bigint << 32) | l.objid::bigint) = hashtextextended('ec2-manager:job:housekeeping', 0)`,
        [role],
      );
      lockPid = rows[0]?.pid;
      return lockPid !== undefined;
    }, 20000);
    b = await createAppHarness({ env: { ...shared, DATABASE_URL: base.db.url } });
    const runnerB = b.job('housekeeping');
    expect(await runnerB.tick()).toBe('not-leader');

    // The lock's connection is killed (a network cut, a database failover).
    const { rows: lost } = await admin.query<{ at: Date }>(`SELECT clock_timestamp() AS at, pg_terminate_backend($1)`, [
      lockPid,
    ]);
    const lostAt = lost[0].at;

    // Replica B takes over at its next tick: A's run never finished, so it does not count as recent.
    await waitFor(async () => (await runnerB.tick()) === 'ran', 15000, 200);
    const inState = await base.dataSource.query(`SELECT id FROM instances ORDER BY id`);
    expect(inState.map((r: { id: string }) => r.id)).toEqual([...untagged].sort());

    // A's run wakes up with a listing from before B's sweep, that would have it tag, terminate and write.
    probe.release();
    const runnerA = a.job('housekeeping');
    await waitFor(() => runnerA.history.some((r) => r.fencedAt !== undefined), 15000);
    const fenced = runnerA.history.find((r) => r.fencedAt)!;
    expect(fenced.ok).toBe(false);
    expect(fenced.fencedAt!.getTime()).toBeLessThan(lostAt.getTime() + 1000);

    expect(probe.mutations.filter((m) => m.at >= fenced.fencedAt!.getTime())).toEqual([]);
    const { rows: writes } = await admin.query(`SELECT tbl, op, at FROM test_write_audit WHERE who = $1 AND at >= $2`, [
      role,
      lostAt,
    ]);
    expect(writes).toEqual([]);
    // B did the work: everything tagged, the zombie terminated, its outcome and run recorded.
    const byId = new Map(
      base.sandbox.control.state({ region, limit: 1000 }).regions[region].instances!.map((i) => [i.instanceId, i]),
    );
    for (const id of untagged) expect(byId.get(id)!.tags).toMatchObject({ Owner: base.config.managerId });
    expect(byId.get(zombies[0])!.state).toBe('shutting-down');
    expect(await b.get(JobRunRepository).find('housekeeping')).toMatchObject({ ok: true, error: null });
  });
});
