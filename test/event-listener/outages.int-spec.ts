import { DescribeInstancesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { startPostgresServer, PostgresServer } from '../support/postgres-server';
import { captureSentryEvents, createEventsHarness, EventsHarness, REGION, waitFor } from './support';

Logger.overrideLogger(['error']);

/**
 * SPEC §4 "our own outages never cost an event": the database stopped, EC2 unreachable and SQS
 * unreachable, each on the real parts (a Postgres server of this file's own, the sandbox's EC2 and SQS).
 */
describe('event listener under our own outages', () => {
  const sentry = captureSentryEvents();
  let server: PostgresServer;
  let h: EventsHarness;
  const stateOf = async (id: string) => (await h.instances.find(REGION, id))?.state ?? 'absent';
  const depth = async (dead = false) => {
    const d = await h.queueDepth(dead);
    return d.visible + d.inFlight;
  };
  /** Our live instances of a worker type as EC2 has them: id → state. */
  const truth = async (workerType: string) => {
    const out = await h.ec2.send(
      new DescribeInstancesCommand({
        Filters: [
          { Name: 'key-name', Values: [`mgr:${workerType}:*`] },
          { Name: 'instance-state-name', Values: ['pending', 'running'] },
        ],
      }),
    );
    const rows = out.Reservations!.flatMap((r) => r.Instances!).map((i) => [i.InstanceId!, i.State!.Name!]);
    return Object.fromEntries(rows.sort()) as Record<string, string>;
  };
  const state = async (workerType: string) => {
    const rows = (await h.instances.list({ workerType })).map((i) => [i.id, i.state]);
    return Object.fromEntries(rows.sort()) as Record<string, string>;
  };
  /** A state-change event straight into the dead-letter queue, as if its deliveries had been used up. */
  const deadLetter = async (id: string, state: string) =>
    h.sqs.send(
      new SendMessageCommand({
        QueueUrl: await h.queueUrl(true),
        MessageBody: JSON.stringify({
          version: '0',
          id: randomUUID(),
          'detail-type': 'EC2 Instance State-change Notification',
          source: 'aws.ec2',
          account: '000000000000',
          time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
          region: REGION,
          resources: [],
          detail: { 'instance-id': id, state },
        }),
      }),
    );

  beforeAll(async () => {
    server = await startPostgresServer();
    h = await createEventsHarness({ databaseUrl: await server.createMigratedDatabase() });
  }, 60000);
  afterAll(async () => {
    await h?.close();
    await server?.destroy();
  });
  beforeEach(async () => {
    await h.reset();
    sentry.length = 0;
  });

  it('should lose no event while Postgres is stopped for longer than maxReceiveCount × visibility', async () => {
    const before = await h.launch('outage', 3);
    await waitFor(
      () => state('outage'),
      (s) => Object.keys(s).length === 3,
    );
    await server.stop('immediate');
    // While the database is down: launches, their start, a termination. 3 receives × 1 s would dead-letter all.
    const during = await h.launch('outage', 3);
    await h.advance(15);
    await h.ec2.send(new TerminateInstancesCommand({ InstanceIds: [before[0]] }));
    await h.sandbox.control.flushEvents();
    await new Promise((r) => setTimeout(r, 7000));
    await server.start();

    const expected = await truth('outage');
    expect(Object.keys(expected).sort()).toEqual([...before.slice(1), ...during].sort());
    await waitFor(
      () => state('outage'),
      (s) => JSON.stringify(s) === JSON.stringify(expected),
      30000,
    );
    await waitFor(() => depth(), (n) => n === 0);
    expect(await depth(true)).toBe(0);
    expect(h.logs.find(/untracked/)).toEqual([]);
  }, 60000);

  it('should apply a dead-lettered event that can now take effect, and count it as recovered', async () => {
    const [id] = await h.launch('lost');
    await waitFor(() => stateOf(id), (s) => s === 'pending');
    // The event that would have added it never made it: the row is gone, its event is in the dead-letter queue.
    await h.instances.remove(REGION, id);
    await deadLetter(id, 'pending');
    await waitFor(() => stateOf(id), (s) => s === 'pending');
    await waitFor(() => depth(true), (n) => n === 0);
    expect(h.counters.snapshot().handled['state-change/recovered']).toBeGreaterThanOrEqual(1);
    expect(h.logs.find(/untracked/)).toEqual([]);
    expect(sentry).toEqual([]);
  });

  it('should keep a dead-lettered event while EC2 cannot be reached, and apply it once it can', async () => {
    const [id] = await h.launch('unreachable');
    await waitFor(() => stateOf(id), (s) => s === 'pending');
    await h.instances.remove(REGION, id);
    const failedBefore = h.counters.snapshot().handled['state-change/failed'] ?? 0;
    h.sandbox.control.setFaults({ ec2: { outage: 'refuse' } });
    await deadLetter(id, 'pending');
    await waitFor(
      () => Promise.resolve(h.counters.snapshot().handled['state-change/failed'] ?? 0),
      (n) => n >= failedBefore + 2,
    );
    expect(await depth(true)).toBe(1);
    expect(await stateOf(id)).toBe('absent');
    h.sandbox.control.setFaults({ ec2: { outage: 'none' } });
    await waitFor(() => stateOf(id), (s) => s === 'pending');
    await waitFor(() => depth(true), (n) => n === 0);
    expect(h.logs.find(/untracked/)).toEqual([]);
  });

  it('should back off while SQS is unreachable, with one line when a queue starts failing and one when it answers', async () => {
    const mark = h.logs.mark();
    h.sandbox.control.setFaults({ sqs: { outage: 'refuse' } });
    await new Promise((r) => setTimeout(r, 6000));
    h.sandbox.control.setFaults({ sqs: { outage: 'none' } });
    const queues = [REGION, 'us-west-2'].flatMap((r) => [`events@${r}`, `dead-letters@${r}`]);
    const recovered = await waitFor(
      () => Promise.resolve(h.logs.find('queue answers again', mark)),
      (lines) => lines.length >= queues.length,
      70000,
    );
    const noisy = h.logs.lines
      .slice(mark)
      .filter((l) => typeof l.queue === 'string' && (l.level === 'warn' || l.level === 'error'));
    expect(noisy.map((l) => [l.queue, l.msg]).sort()).toEqual(
      queues.map((q) => [q, 'queue failing; receives back off until it answers']).sort(),
    );
    expect(recovered.map((l) => l.queue).sort()).toEqual([...queues].sort());
    // Back-off 1, 2, 4 s: a handful of failed calls in 6 s, not hundreds.
    for (const line of recovered) expect(line.failedCalls).toBeLessThanOrEqual(6);
    const reports = sentry.filter((e) => typeof e.tags?.queue === 'string');
    expect(reports).toHaveLength(2 * queues.length);
  }, 90000);
});
