import { TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import type { Message } from '@aws-sdk/client-sqs';
import { Logger } from '@nestjs/common';
import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { keyPairNameFor } from '../../src/ec2/naming';
import { EventBatchProcessor } from '../../src/event-listener/event-batch.processor';
import { Metrics } from '../../src/metrics/metrics.service';
import { InstanceRepository } from '../../src/state/instance.repository';
import { AppHarness, createAppHarness } from '../app-harness';
import { emptyTables } from '../support/tables';
import { createEventsHarness, EventsHarness, REGION, waitFor } from './support';

Logger.overrideLogger(['error']);

const LIFECYCLE = ['pending', 'running', 'shutting-down', 'terminated'] as const;

const envelope = (time: number, id: string, state: string) =>
  JSON.stringify({
    version: '0',
    id: randomUUID(),
    'detail-type': 'EC2 Instance State-change Notification',
    source: 'aws.ec2',
    account: '000000000000',
    time: new Date(time * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: REGION,
    resources: [],
    detail: { 'instance-id': id, state },
  });
const message = (body: string): Message => ({
  MessageId: randomUUID(),
  ReceiptHandle: randomUUID(),
  Body: body,
  Attributes: { ApproximateReceiveCount: '1' },
});

const instanceSpec = fc.record({
  ours: fc.integer({ min: 0, max: 9 }).map((n) => n > 0),
  steps: fc.integer({ min: 1, max: 4 }),
  /** `pending` and `running` in the same second (EventBridge times have one-second precision). */
  sameSecond: fc.boolean(),
  /** Already in state (adopted earlier) when the batch comes: its events apply to a known row. */
  known: fc.boolean(),
});

/**
 * SPEC §3–§4 with a batch's events applied together: however the events of many instances are split
 * into batches (one, several, two handled at once as by two consumers), shuffled and duplicated, state
 * ends as delivering them one by one in order leaves it.
 */
describe('batched event handling', () => {
  let h: AppHarness;
  let processor: EventBatchProcessor;
  let base = Date.UTC(2026, 1, 1) / 1000;
  const instances = () => h.get(InstanceRepository);
  const snapshot = async () =>
    (await instances().list({ region: REGION })).map((i) => [i.id, i.state, i.workerType, i.lastEvent.toISOString()]);
  const describeCalls = async () =>
    (await h.get(Metrics).awsCalls.get()).values
      .filter((v) => v.labels.operation === 'DescribeInstances' && v.labels.region === REGION)
      .reduce((n, v) => n + v.value, 0);

  beforeAll(async () => {
    h = await createAppHarness({ env: { MANAGER_ID: 'mgr' }, sandbox: { clockSpeed: 0 } });
    processor = h.get(EventBatchProcessor);
  });
  afterAll(() => h.close());

  it('should reach the one-by-one in-order result in one batch, in batches, and in two concurrent batches', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(instanceSpec, { minLength: 2, maxLength: 8 }),
        fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.boolean(), fc.boolean()), {
          minLength: 40,
          maxLength: 40,
        }),
        async (specs, shuffle) => {
          await h.sandbox.control.reset();
          base += 1000;
          const ordered: string[] = [];
          const known: string[] = [];
          specs.forEach((spec, k) => {
            const keyName = spec.ours ? keyPairNameFor(h.config, 'batch') : 'someone-else:batch:abc1234';
            const [id] = h.sandbox.control.seedInstances({
              region: REGION,
              count: 1,
              keyName,
              state: LIFECYCLE[spec.steps - 1],
            }).instanceIds;
            if (spec.known) known.push(id);
            for (let step = 0; step < spec.steps; step++) {
              const t = base + k * 100 + (spec.sameSecond && step === 1 ? 0 : step * 10);
              ordered.push(envelope(t, id, LIFECYCLE[step]));
            }
          });
          // Instances already in state: their first event, delivered before the batch.
          const first = (id: string) => ordered.find((b) => b.includes(id))!;
          const prepare = async () => {
            await emptyTables(h.dataSource);
            for (const id of known) await processor.handleBatch(REGION, [message(first(id))]);
          };

          await prepare();
          for (const body of ordered) expect(await processor.handleBatch(REGION, [message(body)])).toHaveLength(1);
          const inOrder = await snapshot();

          // Shuffled, some twice (a duplicate may come after the instance left: a late `pending` is stale).
          const deliveries = ordered
            .flatMap((body, i) => {
              const [order, twice] = shuffle[i % shuffle.length];
              return twice
                ? [
                    { body, order },
                    { body, order: (order + 0.41) % 1 },
                  ]
                : [{ body, order }];
            })
            .sort((a, b) => a.order - b.order)
            .map((d) => d.body);

          await prepare();
          expect(await processor.handleBatch(REGION, deliveries.map(message))).toHaveLength(deliveries.length);
          expect(await snapshot()).toEqual(inOrder);

          await prepare();
          for (let i = 0; i < deliveries.length; i += 10) {
            const batch = deliveries.slice(i, i + 10).map(message);
            expect(await processor.handleBatch(REGION, batch)).toHaveLength(batch.length);
          }
          expect(await snapshot()).toEqual(inOrder);

          // Two consumers: the events of one instance split across two batches handled at the same time.
          await prepare();
          const split = deliveries.map((body, i) => ({ body, second: shuffle[i % shuffle.length][2] }));
          const [a, b] = [split.filter((d) => !d.second), split.filter((d) => d.second)].map((part) =>
            part.map((d) => message(d.body)),
          );
          const [ackedA, ackedB] = await Promise.all([
            processor.handleBatch(REGION, a),
            processor.handleBatch(REGION, b),
          ]);
          expect([ackedA.length, ackedB.length]).toEqual([a.length, b.length]);
          expect(await snapshot()).toEqual(inOrder);
        },
      ),
      { numRuns: 15 },
    );
  });

  it('should commit the other events of a batch when one event fails, and leave only that one for redelivery', async () => {
    await h.sandbox.control.reset();
    await emptyTables(h.dataSource);
    const keyName = keyPairNameFor(h.config, 'refused');
    const ids = h.sandbox.control.seedInstances({ region: REGION, count: 6, keyName }).instanceIds;
    const t = Date.UTC(2026, 2, 1) / 1000;
    await processor.handleBatch(
      REGION,
      ids.map((id) => message(envelope(t, id, 'running'))),
    );
    const [bad, ...good] = ids;
    expect((await instances().list({ workerType: 'refused' })).map((i) => i.state)).toEqual(Array(6).fill('running'));
    await h.dataSource.query(`
      CREATE FUNCTION test_refuse_instance() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF OLD.id = '${bad}' THEN RAISE EXCEPTION 'test: refusing to remove %', OLD.id; END IF;
        RETURN OLD;
      END $$`);
    await h.dataSource.query(
      `CREATE TRIGGER test_refuse BEFORE DELETE ON instances FOR EACH ROW EXECUTE FUNCTION test_refuse_instance()`,
    );
    try {
      const messages = ids.map((id) => message(envelope(t + 5, id, 'shutting-down')));
      const acked = await processor.handleBatch(REGION, messages);
      expect(acked.map((m) => m.MessageId).sort()).toEqual(
        messages
          .slice(1)
          .map((m) => m.MessageId)
          .sort(),
      );
      expect((await instances().list({ workerType: 'refused' })).map((i) => i.id)).toEqual([bad]);
      for (const id of good) expect(await instances().find(REGION, id)).toBeNull();
      expect(h.logs.find('applying a batch of events failed; applying them one by one').length).toBeGreaterThan(0);
    } finally {
      await h.dataSource.query(`DROP TRIGGER test_refuse ON instances; DROP FUNCTION test_refuse_instance()`);
    }
    expect(await processor.handleBatch(REGION, [message(envelope(t + 5, bad, 'shutting-down'))])).toHaveLength(1);
    expect(await instances().list({ workerType: 'refused' })).toEqual([]);
  });

  it('should adopt the new instances of concurrent batches with few DescribeInstances calls', async () => {
    await h.sandbox.control.reset();
    await emptyTables(h.dataSource);
    const keyName = keyPairNameFor(h.config, 'burst');
    const ids = h.sandbox.control.seedInstances({ region: REGION, count: 40, keyName }).instanceIds;
    const t = Date.UTC(2026, 3, 1) / 1000;
    const before = await describeCalls();
    const batches = [0, 10, 20, 30].map((i) => ids.slice(i, i + 10).map((id) => message(envelope(t, id, 'pending'))));
    const acked = await Promise.all(batches.map((batch) => processor.handleBatch(REGION, batch)));
    expect(acked.flat()).toHaveLength(40);
    expect((await instances().list({ workerType: 'burst' })).map((i) => i.id).sort()).toEqual([...ids].sort());
    // One call per batch at most (concurrent batches share theirs), where one per instance would be 40.
    expect((await describeCalls()) - before).toBeLessThanOrEqual(4);
  });
});

/** The same through the real queue and consumers: the refused event alone comes back, until it can apply. */
describe('a failing event among its batch, through the queue', () => {
  let h: EventsHarness;

  beforeAll(async () => {
    h = await createEventsHarness();
  });
  afterAll(() => h.close());

  it('should delete the batch-mates of a failing event and redeliver only that one', async () => {
    const ids = await h.launch('mates', 6);
    await waitFor(
      () => h.instances.list({ workerType: 'mates' }),
      (rows) => rows.length === 6,
    );
    const [bad] = ids;
    await h.dataSource.query(`
      CREATE FUNCTION test_refuse_instance() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF OLD.id = '${bad}' THEN RAISE EXCEPTION 'test: refusing to remove %', OLD.id; END IF;
        RETURN OLD;
      END $$`);
    await h.dataSource.query(
      `CREATE TRIGGER test_refuse BEFORE DELETE ON instances FOR EACH ROW EXECUTE FUNCTION test_refuse_instance()`,
    );
    const failed = () => h.counters.snapshot().handled['state-change/failed'] ?? 0;
    const failedBefore = failed();
    await h.advance(1);
    await h.ec2.send(new TerminateInstancesCommand({ InstanceIds: ids }));
    await h.advance(1);
    await waitFor(
      () => h.instances.list({ workerType: 'mates' }),
      (rows) => rows.length === 1 && rows[0].id === bad,
    );
    // The refused event is tried again and again; everything else has left the queue.
    await waitFor(
      () => Promise.resolve(failed() - failedBefore),
      (n) => n >= 2,
    );
    expect((await h.queueDepth()).visible + (await h.queueDepth()).inFlight).toBe(1);
    await h.dataSource.query(`DROP TRIGGER test_refuse ON instances; DROP FUNCTION test_refuse_instance()`);
    await waitFor(
      () => h.instances.list({ workerType: 'mates' }),
      (rows) => rows.length === 0,
    );
    await waitFor(
      () => h.queueDepth(),
      (d) => d.visible + d.inFlight === 0,
    );
    expect(await h.queueDepth(true)).toEqual({ visible: 0, inFlight: 0 });
  });
});
