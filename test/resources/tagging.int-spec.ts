import { TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import { AppModule } from '../../src/app.module';
import { AppConfig } from '../../src/config/app-config';
import { configureApp, HTTP_APP_OPTIONS } from '../../src/configure-app';
import { Ec2Gateway } from '../../src/ec2/ec2-gateway.service';
import { keyPairNameFor } from '../../src/ec2/naming';
import { LOG_DESTINATION } from '../../src/logging/logging.module';
import { Metrics } from '../../src/metrics/metrics.service';
import { TaggingService } from '../../src/resources/tagging.service';
import { PendingTagRepository } from '../../src/state/pending-tag.repository';
import { Tx } from '../../src/state/tx.service';
import { createEventsHarness, EventsHarness, REGION, waitFor } from '../event-listener/support';
import { testLogs } from '../log-capture';

const WT = 'tag-wt';
/** Retries back off from a second and the sweep runs every five: a few rounds of that, not the default 15 s. */
const SLOW = 90_000;

type Snapshot = { instanceId: string; state: string; tags: Record<string, string>; volumeIds: string[] };

function tagsOf(config: AppConfig, wt: string): Record<string, string> {
  return { Name: wt, Owner: config.managerId, WorkerType: `${config.managerId}/${wt}` };
}

function sandboxView(h: EventsHarness) {
  const region = () => h.sandbox.control.state({ region: REGION, limit: 100000 }).regions[REGION];
  return {
    instances: () => (region().instances ?? []) as Snapshot[],
    volumes: () => (region().volumes ?? []) as { volumeId: string; tags: Record<string, string> }[],
    createTagsCalls: () => region().calls.CreateTags ?? 0,
  };
}

/** Whether the sandbox shows each of these instances, and each of its volumes, with the tags of SPEC §2. */
function allTagged(h: EventsHarness, ids: readonly string[], wt = WT): boolean {
  const view = sandboxView(h);
  const want = tagsOf(h.config, wt);
  const volumes = new Map(view.volumes().map((v) => [v.volumeId, v.tags]));
  const byId = new Map(view.instances().map((i) => [i.instanceId, i]));
  return ids.every((id) => {
    const i = byId.get(id);
    return (
      i !== undefined &&
      Object.entries(want).every(([k, v]) => i.tags[k] === v) &&
      i.volumeIds.length > 0 &&
      i.volumeIds.every((vol) => Object.entries(want).every(([k, v]) => volumes.get(vol)?.[k] === v))
    );
  });
}

type Outcomes = { tagged: number; gone: number; retried: number };

/** The tagger's counts of this region since `base` (the metrics of one app add up over its tests). */
async function outcomes(h: { get: EventsHarness['get'] }, base?: Outcomes): Promise<Outcomes> {
  const { values } = await h.get(Metrics).taggedResources.get();
  const out: Outcomes = { tagged: 0, gone: 0, retried: 0 };
  for (const v of values) {
    const k = v.labels.outcome as keyof Outcomes;
    if (v.labels.region === REGION && k in out) out[k] = v.value - (base?.[k] ?? 0);
  }
  return out;
}

const waiting = (h: { get: EventsHarness['get'] }) =>
  h
    .get(PendingTagRepository)
    .countByRegion()
    .then((rows) => rows.find((r) => r.region === REGION)?.count ?? 0);

describe('tagging off the event path (issue #15, SPEC §2)', () => {
  let h: EventsHarness;
  let inState: (ids: string[]) => Promise<number>;

  beforeAll(async () => {
    h = await createEventsHarness();
    inState = async (ids) =>
      (await h.instances.list({ region: REGION })).filter((i) => ids.includes(i.id) && i.state === 'pending').length;
  });
  afterAll(() => h.close());
  beforeEach(() => h.reset());

  it('should put untagged instances in state without waiting for CreateTags, retry it through throttling and an EC2 outage, and tag instances and volumes', async () => {
    h.sandbox.control.setFaults({ throttle: { fraction: 1, actions: ['CreateTags'] } });
    await h.sandbox.control.settled();
    const view = sandboxView(h);
    const base = await outcomes(h);

    const ids = await h.launch(WT, 3);

    // In state while every CreateTags is refused: the adoption did not wait for it.
    await waitFor(
      () => inState(ids),
      (n) => n === 3,
    );
    // What is untagged is recorded: each instance and its volume.
    expect(await waiting(h)).toBe(6);
    await waitFor(
      () => Promise.resolve(view.createTagsCalls()),
      (n) => n > 0,
    );
    await waitFor(
      () => outcomes(h, base),
      (o) => o.retried >= 6,
    );
    expect(allTagged(h, ids)).toBe(false);

    // EC2 unreachable: tried again later all the same.
    const retriedBefore = (await outcomes(h, base)).retried;
    h.sandbox.control.setFaults({ throttle: { fraction: 0 }, ec2: { outage: 'refuse' } });
    await h.sandbox.control.settled();
    await waitFor(
      () => outcomes(h, base),
      (o) => o.retried > retriedBefore,
      SLOW,
    );
    expect(await waiting(h)).toBe(6);

    h.sandbox.control.clearFaults();
    await h.sandbox.control.settled();
    await waitFor(
      () => Promise.resolve(allTagged(h, ids)),
      (done) => done,
      SLOW,
    );
    await waitFor(
      () => waiting(h),
      (n) => n === 0,
    );
    expect(await outcomes(h, base)).toMatchObject({ tagged: 6, gone: 0 });
    expect(await inState(ids)).toBe(3);
  }, 120_000);

  it('should forget an instance that ended before it was tagged and tag the others of its batch', async () => {
    h.sandbox.control.setFaults({ throttle: { fraction: 1, actions: ['CreateTags'] } });
    await h.sandbox.control.settled();
    const base = await outcomes(h);
    // Another worker type: the harness imports a worker type's key pair once, and a reset drops it.
    const ids = await h.launch(`${WT}-2`, 3);
    await waitFor(
      () => waiting(h),
      (n) => n === 6,
    );
    const [ended, ...kept] = ids;
    await h.ec2.send(new TerminateInstancesCommand({ InstanceIds: [ended] }));
    // Past shutting-down and EC2's retention of ended instances: EC2 no longer knows it.
    await h.advance(30);
    await h.advance(3700);
    expect(h.sandbox.control.instance(ended)).toBeUndefined();

    h.sandbox.control.clearFaults();
    await h.sandbox.control.settled();
    await waitFor(
      () => waiting(h),
      (n) => n === 0,
      SLOW,
    );
    expect(allTagged(h, kept, `${WT}-2`)).toBe(true);
    const o = await outcomes(h, base);
    // The ended instance is gone; its volume too, unless EC2 kept it (then it was tagged).
    expect(o.gone).toBeGreaterThanOrEqual(1);
    expect(o.gone + o.tagged).toBe(6);
  }, 120_000);

  it('should tag 1,500 waiting resources in two CreateTags calls', async () => {
    const key = keyPairNameFor(h.config, WT);
    const { instanceIds } = h.sandbox.control.seedInstances({ region: REGION, count: 750, keyName: key });
    const described = await h.get(Ec2Gateway).describeInstances(REGION, instanceIds);
    expect(described.ours.filter((i) => !i.tagged)).toHaveLength(750);
    const before = sandboxView(h).createTagsCalls();

    await h.get(Tx).run((m) => h.get(TaggingService).recordUntagged(described.ours, m));

    await waitFor(
      () => waiting(h),
      (n) => n === 0,
      SLOW,
    );
    expect(allTagged(h, instanceIds)).toBe(true);
    expect(sandboxView(h).createTagsCalls() - before).toBe(2);
  }, 120_000);

  it('should leave nothing of a transaction that rolled back to tag', async () => {
    const key = keyPairNameFor(h.config, WT);
    const { instanceIds } = h.sandbox.control.seedInstances({ region: REGION, count: 2, keyName: key });
    const described = await h.get(Ec2Gateway).describeInstances(REGION, instanceIds);
    await expect(
      h.get(Tx).run(async (m) => {
        await h.get(TaggingService).recordUntagged(described.ours, m);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(await waiting(h)).toBe(0);
    expect(await h.get(TaggingService).drain()).toEqual({ tagged: 0, gone: 0, retried: 0 });
  });
});

describe('tagging across a restart (issue #15)', () => {
  it('should tag what a stopped process left waiting, from a new process on the same database', async () => {
    const h = await createEventsHarness();
    let next: NestExpressApplication | undefined;
    try {
      h.sandbox.control.setFaults({ throttle: { fraction: 1, actions: ['CreateTags'] } });
      await h.sandbox.control.settled();
      const ids = await h.launch(WT, 2);
      await waitFor(
        () => waiting(h),
        (n) => n === 4,
      );
      // The first process goes, its tags not done; EC2 recovers while none runs.
      await h.app.close();
      h.sandbox.control.clearFaults();
      await h.sandbox.control.settled();
      expect(allTagged(h, ids)).toBe(false);

      const module = await Test.createTestingModule({ imports: [AppModule.forRoot(h.config)] })
        .overrideProvider(LOG_DESTINATION)
        .useValue(testLogs.stream)
        .compile();
      next = configureApp(module.createNestApplication<NestExpressApplication>({ ...HTTP_APP_OPTIONS }));
      await next.init();
      const second = { get: <T>(type: new (...args: never[]) => T): T => module.get(type) };

      await waitFor(
        () => waiting(second),
        (n) => n === 0,
        SLOW,
      );
      expect(allTagged(h, ids)).toBe(true);
    } finally {
      await next?.close();
      await h.sandbox.stop();
      await h.db.drop();
    }
  }, 120_000);
});
