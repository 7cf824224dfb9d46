import { Logger } from '@nestjs/common';
import { Client } from 'pg';
import { launchExamples } from '../../src/api/launch/launch-examples';
import { InstanceRepository } from '../../src/state/instance.repository';
import { AppHarness } from '../app-harness';
import { startPostgresServer, PostgresServer } from '../support/postgres-server';
import { api, bearer, createApiHarness, TOKENS } from './support';

Logger.overrideLogger(['error']);

const WT = 'builder';
const auth = bearer(TOKENS.builder);

/**
 * SPEC §9 timeouts toward Postgres: with the database stopped or frozen (a server of this file's own),
 * requests answer 503 naming the database within seconds, readiness fails within 3 s, and both come
 * back by themselves; a launch EC2 made but state could not record answers 503 and its retry with the
 * same ClientToken completes it without launching again.
 */
describe('API while Postgres is stopped or frozen', () => {
  let server: PostgresServer;
  let h: AppHarness;
  let url: string;

  /** Status, body, Retry-After and how long the answer took. */
  const timed = async (path: string) => {
    const t = Date.now();
    const res = await api(h).get(path).timeout(20000);
    return { status: res.status, body: res.body, retryAfter: res.headers['retry-after'], ms: Date.now() - t };
  };
  const serves = async () => (await timed(`/v1/worker-types/${WT}/stats`)).status === 200;
  const waitUntil = async (ok: () => Promise<boolean>, ms = 20000) => {
    const until = Date.now() + ms;
    while (!(await ok())) {
      if (Date.now() > until) throw new Error('condition not reached');
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const sql = async (text: string) => {
    const c = new Client({ connectionString: url });
    await c.connect();
    try {
      await c.query(text);
    } finally {
      await c.end();
    }
  };

  beforeAll(async () => {
    server = await startPostgresServer();
    url = await server.createMigratedDatabase();
    h = await createApiHarness({ databaseUrl: url, env: { DB_STATEMENT_TIMEOUT_MS: 1000 } });
  }, 60000);
  afterAll(async () => {
    await h?.close();
    await server?.destroy();
  });

  const expectDatabase503 = (res: Awaited<ReturnType<typeof timed>>) => {
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ code: 'ServiceUnavailable', details: { cause: 'database' } });
    expect(res.body.message).toMatch(/database/);
    expect(Number(res.retryAfter)).toBeGreaterThan(0);
  };

  it('answers 503 naming the database, and readiness 503, while Postgres is stopped; both recover', async () => {
    await server.stop('fast');
    try {
      const read = await timed(`/v1/worker-types/${WT}/stats`);
      expectDatabase503(read);
      expect(read.ms).toBeLessThan(6000);
      const ready = await timed('/health/ready');
      expect(ready.status).toBe(503);
      expect(ready.body.error.database.status).toBe('down');
      expect(ready.ms).toBeLessThan(3500);
      expect((await timed('/health/live')).status).toBe(200);
    } finally {
      await server.start();
    }
    await waitUntil(serves);
    await waitUntil(async () => (await timed('/health/ready')).status === 200);
  }, 60000);

  it('answers 503 within seconds, not after the freeze, while Postgres is frozen; and serves after the thaw', async () => {
    expect(await serves()).toBe(true); // the pool holds a live connection, which the freeze leaves hanging
    server.freeze();
    try {
      const read = await timed(`/v1/worker-types/${WT}/stats`);
      expectDatabase503(read);
      expect(read.ms).toBeLessThan(10000);
      const again = await timed(`/v1/worker-types/${WT}/stats`);
      expectDatabase503(again);
      expect(again.ms).toBeLessThan(6000);
      const ready = await timed('/health/ready');
      expect(ready.status).toBe(503);
      expect(ready.ms).toBeLessThan(3500);
    } finally {
      server.thaw();
    }
    await waitUntil(serves);
    await waitUntil(async () => (await timed('/health/ready')).status === 200);
  }, 60000);

  it('answers a launch EC2 made but state could not record with 503, and its ClientToken retry completes it once', async () => {
    await api(h).get(`/v1/worker-types/${WT}/key-pair`).set(auth).expect(200);
    const body = launchExamples(h.config).onDemand;
    // The state write outlasts DB_STATEMENT_TIMEOUT_MS (1 s): Postgres cancels it after EC2 launched.
    await sql(`CREATE FUNCTION slow_insert() RETURNS trigger LANGUAGE plpgsql AS
               $$ BEGIN PERFORM pg_sleep(3); RETURN NEW; END $$;
               CREATE TRIGGER slow_insert BEFORE INSERT ON instances FOR EACH ROW EXECUTE FUNCTION slow_insert()`);
    let res;
    try {
      res = await api(h).put(`/v1/worker-types/${WT}/instance`).set(auth).send(body);
    } finally {
      await sql(`DROP TRIGGER slow_insert ON instances; DROP FUNCTION slow_insert()`);
    }
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ code: 'ServiceUnavailable', details: { cause: 'database' } });
    expect(res.body.message).toContain(`retry with the same ClientToken (${body.ClientToken})`);
    // The only launch of this file: every on-demand instance in the region is one of its ClientToken.
    const launched = () =>
      (h.sandbox.control.state().regions[body.Region].instances ?? []).filter((i) => i.lifecycle === 'on-demand');
    expect(launched()).toHaveLength(1);
    expect(await h.get(InstanceRepository).list({ workerType: WT })).toEqual([]);

    await api(h).put(`/v1/worker-types/${WT}/instance`).set(auth).send(body).expect(204);
    expect(launched()).toHaveLength(1);
    expect((await h.get(InstanceRepository).list({ workerType: WT })).map((i) => i.id)).toEqual([
      launched()[0].instanceId,
    ]);
  }, 30000);
});
