import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EXAMPLE_IMAGE_ID, launchExamples } from '../../src/api/launch/launch-examples';
import { keyPairNameFor } from '../../src/ec2/naming';
import { AppConfig } from '../../src/config/app-config';
import { Sandbox, startSandbox } from '../../src/sandbox';
import { createTestDatabase, TestDatabase } from '../db';
import { compiledService } from '../support/compiled-service';
import { ServiceReplica } from '../faults/harness/replica';
import { API_CLIENTS, TOKENS } from './support';

const WT = 'builder';
const REGION = 'us-east-1';

/**
 * `maxInstances` holds across service processes (SPEC §11): two replicas, each in a process of its own
 * with its own connection pool, launch at once against one database; the cap is decided under a lock in
 * Postgres, so together they never exceed it.
 */
describe('maxInstances across two service processes', () => {
  let db: TestDatabase;
  let sandbox: Sandbox;
  let replicas: ServiceReplica[] = [];
  let logDir: string;

  const call = (r: ServiceReplica, method: string, url: string, body?: object) =>
    fetch(`${r.baseUrl}${url}`, {
      method,
      headers: { Authorization: `Bearer ${TOKENS.admin}`, 'Content-Type': 'application/json' },
      body: body ? JSON.stringify(body) : undefined,
    });

  beforeAll(async () => {
    db = await createTestDatabase();
    sandbox = await startSandbox({ regions: [REGION], clockSpeed: 0 });
    const env = {
      NODE_ENV: 'production',
      AWS_MODE: 'sandbox',
      DATABASE_URL: db.url,
      RUN_MIGRATIONS: 'false',
      SETUP_ON_START: 'false',
      EVENT_LISTENER_ENABLED: 'false',
      SPOT_POLL_ENABLED: 'false',
      HOUSEKEEPING_ENABLED: 'false',
      PRICING_ENABLED: 'false',
      EC2_ENDPOINT: sandbox.endpoints.ec2,
      SQS_ENDPOINT: sandbox.endpoints.sqs,
      EVENTS_ENDPOINT: sandbox.endpoints.events,
      REGIONS: REGION,
      API_CLIENTS,
      LOG_LEVEL: 'info',
      DATA_DIR: path.join(os.tmpdir(), 'ec2m-policy-replicas-unused'),
    };
    logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ec2m-policy-replicas-'));
    const mainJs = compiledService();
    replicas = ['a', 'b'].map((n) => new ServiceReplica(`policy-${n}`, mainJs, env, logDir));
    await Promise.all(replicas.map((r) => r.start()));
  }, 180_000);
  afterAll(async () => {
    // SIGKILL: the test's processes must be gone when it ends, whatever state they are in.
    await Promise.all(replicas.map((r) => r.kill()));
    await sandbox?.stop();
    await db?.drop();
    if (logDir) fs.rmSync(logDir, { recursive: true, force: true });
  });

  it('two processes each launching 10 at once with maxInstances 10 end with at most 10', async () => {
    const [a, b] = replicas;
    expect((await call(a, 'GET', `/v1/worker-types/${WT}/key-pair`)).status).toBe(200);
    expect((await call(a, 'PUT', `/v1/worker-types/${WT}/policy`, { maxInstances: 10 })).status).toBe(200);
    const examples = launchExamples(AppConfig.forTest({ REGIONS: REGION }));
    expect(examples.onDemand.LaunchInfo.KeyName).toBe(keyPairNameFor(AppConfig.forTest({}), WT));

    const launches = [a, b].flatMap((r, n) =>
      Array.from({ length: 10 }, (_, i) =>
        call(r, 'PUT', `/v1/worker-types/${WT}/instance`, { ...examples.onDemand, ClientToken: `race-${n}-${i}` }),
      ),
    );
    const statuses = (await Promise.all(launches)).map((res) => res.status);

    const launched = sandbox.control.state({ region: REGION }).regions[REGION].instances ?? [];
    expect(launched.length).toBeLessThanOrEqual(10);
    // Nothing failed for another reason: every call either launched or was refused for the cap.
    expect(statuses.filter((s) => s === 204)).toHaveLength(launched.length);
    expect(statuses.filter((s) => s !== 204 && s !== 409)).toEqual([]);
    expect(launched.length).toBe(10);
  });

  it('two processes each asking one fleet for 10 at once with maxInstances 10 end with at most 10', async () => {
    const [a, b] = replicas;
    const wt = 'fleet-race';
    expect((await call(a, 'GET', `/v1/worker-types/${wt}/key-pair`)).status).toBe(200);
    expect((await call(b, 'PUT', `/v1/worker-types/${wt}/policy`, { maxInstances: 10 })).status).toBe(200);
    const fleet = (r: ServiceReplica, n: number) =>
      call(r, 'POST', `/v1/worker-types/${wt}/fleet`, {
        ClientToken: `fleet-race-${n}`,
        Region: REGION,
        Count: 10,
        Capacity: 'on-demand',
        Candidates: [{ InstanceType: 'm5.large' }, { InstanceType: 'c5.large' }],
        LaunchSpecification: { ImageId: EXAMPLE_IMAGE_ID, KeyName: keyPairNameFor(AppConfig.forTest({}), wt) },
      });
    const answers = await Promise.all([fleet(a, 0), fleet(b, 1)]);
    expect(answers.map((res) => res.status)).toEqual([200, 200]);
    const bodies = (await Promise.all(answers.map((res) => res.json()))) as {
      launched: unknown[];
      trimmedByPolicy: number;
    }[];

    const launched = (sandbox.control.state({ region: REGION }).regions[REGION].instances ?? []).filter(
      (i) => i.keyName === keyPairNameFor(AppConfig.forTest({}), wt),
    );
    expect(launched.length).toBeLessThanOrEqual(10);
    expect(launched.length).toBe(bodies.reduce((n, x) => n + x.launched.length, 0));
    expect(bodies.reduce((n, x) => n + x.trimmedByPolicy, 0)).toBe(20 - launched.length);
    expect(launched.length).toBe(10);
  });
});
