import { TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { Logger } from '@nestjs/common';
import { captureSentryEvents, createEventsHarness, EventsHarness, REGION, waitFor } from './support';

Logger.overrideLogger(['error']);

describe('event listener under EC2 API lag, duplicates and disorder', () => {
  const sentry = captureSentryEvents();
  let h: EventsHarness;
  const stateOf = async (id: string) => (await h.instances.find(REGION, id))?.state ?? 'absent';
  const drained = async (dead = false) => {
    const d = await h.queueDepth(dead);
    return d.visible + d.inFlight === 0;
  };

  beforeAll(async () => {
    h = await createEventsHarness({ env: { SQS_MAX_RECEIVE_COUNT: 4 } });
  });
  afterAll(() => h.close());
  beforeEach(async () => {
    await h.reset();
    sentry.length = 0;
  });

  it('should leave an event EC2 cannot describe yet for redelivery, and land it once the lag ends', async () => {
    h.sandbox.control.setFaults({ describeInstancesLagSeconds: 30 });
    const lagBefore = h.counters.snapshot().lagRetries;
    const [id] = await h.launch('lagged');
    await waitFor(
      () => Promise.resolve(h.counters.snapshot().lagRetries - lagBefore),
      (n) => n >= 2,
    );
    expect(await stateOf(id)).toBe('absent');
    await h.advance(30); // EC2 now knows the instance, which has meanwhile started running
    await waitFor(
      () => stateOf(id),
      (s) => s === 'running',
    );
    await waitFor(() => drained(), Boolean);
    expect(await drained(true)).toBe(true);
    expect(sentry).toEqual([]);
  });

  it('should dead-letter an event for an instance EC2 never knows, and report it to Sentry as untracked', async () => {
    h.sandbox.control.setFaults({ describeInstancesLagSeconds: 1e9 });
    const deadBefore = h.counters.snapshot().deadLettered;
    const [id] = await h.launch('ghost');
    await waitFor(
      () => Promise.resolve(sentry.length),
      (n) => n >= 1,
    );
    const [event] = sentry;
    expect(event.message).toBe(`ec2-manager: untracked instance ${id} in ${REGION}`);
    expect(event.level).toBe('error');
    expect(event.tags).toMatchObject({ region: REGION, instanceId: id, stage: 'dead-letter' });
    expect(event.extra).toMatchObject({ region: REGION, instanceId: id });
    expect(Number(event.extra!.receiveCount)).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(String(event.extra!.body))).toMatchObject({
      'detail-type': 'EC2 Instance State-change Notification',
      detail: { 'instance-id': id, state: 'pending' },
    });
    expect(h.counters.snapshot().deadLettered - deadBefore).toBe(1);
    expect(h.counters.snapshot().lagRetries).toBeGreaterThanOrEqual(4);
    await waitFor(() => drained(true), Boolean);
    await waitFor(() => drained(), Boolean);
    expect(await stateOf(id)).toBe('absent');
  });

  it('should converge to the truth with every event delivered twice, late and out of order', async () => {
    h.sandbox.control.setFaults({ events: { duplicateFraction: 1, reorderFraction: 0.5, delaySeconds: 3 } });
    const outOfOrderBefore = h.counters.snapshot().outOfOrder;
    const ids = await h.launch('shuffled', 6);
    for (let t = 0; t < 12; t++) await h.advance(1);
    const [gone1, gone2, ...kept] = ids;
    await h.ec2.send(new TerminateInstancesCommand({ InstanceIds: [gone1, gone2] }));
    for (let t = 0; t < 30; t++) await h.advance(1);
    const rows = await waitFor(
      () => h.instances.list({ workerType: 'shuffled' }),
      (r) => r.length === kept.length && r.every((i) => i.state === 'running'),
    );
    expect(rows.map((r) => r.id).sort()).toEqual([...kept].sort());
    await waitFor(() => drained(), Boolean);
    expect(await drained(true)).toBe(true);
    expect((await h.instances.list({ workerType: 'shuffled' })).map((r) => [r.id, r.state]).sort()).toEqual(
      kept.map((id) => [id, 'running']).sort(),
    );
    // Every duplicate arrived at the same time as its original: each was counted, none changed anything.
    expect(h.counters.snapshot().outOfOrder - outOfOrderBefore).toBeGreaterThanOrEqual(ids.length);
    expect(sentry).toEqual([]);
  });
});

describe('event listener redelivery of lagging events', () => {
  let h: EventsHarness;

  beforeAll(async () => {
    // A visibility timeout far longer than the wait below: only the shortened redelivery can land the event.
    h = await createEventsHarness({ env: { SQS_VISIBILITY_TIMEOUT_SECONDS: 60 } });
  });
  afterAll(() => h.close());

  it('should bring a lagging event back within seconds, not after the whole visibility timeout', async () => {
    h.sandbox.control.setFaults({ describeInstancesLagSeconds: 5 });
    const [id] = await h.launch('soon');
    await waitFor(
      () => Promise.resolve(h.counters.snapshot().lagRetries),
      (n) => n >= 1,
    );
    await h.advance(5);
    await waitFor(
      async () => (await h.instances.find(REGION, id))?.state,
      (s) => s === 'pending',
      20000,
    );
  });
});
