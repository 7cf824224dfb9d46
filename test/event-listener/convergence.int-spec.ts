import type { Message } from '@aws-sdk/client-sqs';
import { Logger } from '@nestjs/common';
import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { keyPairNameFor } from '../../src/ec2/naming';
import { EventBatchProcessor } from '../../src/event-listener/event-batch.processor';
import { InstanceRepository } from '../../src/state/instance.repository';
import { TerminationNoticeRepository } from '../../src/state/termination-notice.repository';
import { AppHarness, createAppHarness } from '../app-harness';
import { emptyTables } from '../support/tables';

Logger.overrideLogger(['error']);

const REGION = 'us-east-1';
const LIFECYCLE = ['pending', 'running', 'shutting-down', 'terminated'] as const;

interface Delivery {
  body: string;
  /** Position in a shuffled delivery, and whether the message comes twice. */
  order: number;
  twice: boolean;
}

const instanceSpec = fc.record({
  ours: fc.integer({ min: 0, max: 9 }).map((n) => n > 0),
  steps: fc.integer({ min: 1, max: 4 }),
  rebalance: fc.boolean(),
});

/**
 * The property of SPEC §4: however the events of a set of instances are delivered (any order, each
 * possibly twice), state ends up as delivering them once, in order, leaves it; and that is the truth:
 * exactly our instances still live, in their last state, with the notices of those.
 */
describe('event handling converges whatever the delivery order', () => {
  let h: AppHarness;
  let processor: EventBatchProcessor;
  let base = Date.UTC(2026, 0, 1) / 1000;

  beforeAll(async () => {
    h = await createAppHarness({ env: { MANAGER_ID: 'mgr' }, sandbox: { clockSpeed: 0 } });
    processor = h.get(EventBatchProcessor);
  });
  afterAll(() => h.close());

  const envelope = (detailType: string, time: number, detail: Record<string, unknown>) =>
    JSON.stringify({
      version: '0',
      id: randomUUID(),
      'detail-type': detailType,
      source: 'aws.ec2',
      account: '000000000000',
      time: new Date(time * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: REGION,
      resources: [],
      detail,
    });
  const message = (body: string): Message => ({
    MessageId: randomUUID(),
    Body: body,
    Attributes: { ApproximateReceiveCount: '1' },
  });
  const snapshot = async () => ({
    instances: (await h.get(InstanceRepository).list({ region: REGION })).map((i) => [i.id, i.state, i.workerType]),
    notices: (await h.get(TerminationNoticeRepository).listForWorkerType('prop'))
      .map((n) => [n.instanceId, n.kind])
      .sort(),
  });
  const clear = () => emptyTables(h.dataSource);

  it('should reach the in-order result for any permutation with duplicates', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(instanceSpec, { minLength: 1, maxLength: 6 }).chain((specs) => {
          const events = specs.reduce((n, s) => n + s.steps + (s.rebalance && s.steps >= 2 ? 1 : 0), 0);
          return fc.tuple(
            fc.constant(specs),
            fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.boolean()), {
              minLength: events,
              maxLength: events,
            }),
          );
        }),
        async ([specs, shuffle]) => {
          await h.sandbox.control.reset();
          const ordered: string[] = [];
          const expected: { instances: string[][]; notices: string[][] } = { instances: [], notices: [] };
          base += 1000;
          specs.forEach((spec, k) => {
            const keyName = spec.ours ? keyPairNameFor(h.config, 'prop') : 'someone-else:prop:abc1234';
            const final = LIFECYCLE[spec.steps - 1];
            const [id] = h.sandbox.control.seedInstances({
              region: REGION,
              count: 1,
              keyName,
              state: final,
            }).instanceIds;
            // Distinct seconds per transition: EventBridge times have second precision.
            for (let step = 0; step < spec.steps; step++) {
              const t = base + k * 100 + step * 10;
              ordered.push(
                envelope('EC2 Instance State-change Notification', t, { 'instance-id': id, state: LIFECYCLE[step] }),
              );
              if (step === 1 && spec.rebalance) {
                ordered.push(envelope('EC2 Instance Rebalance Recommendation', t + 5, { 'instance-id': id }));
              }
            }
            if (spec.ours && spec.steps <= 2) {
              expected.instances.push([id, final, 'prop']);
              if (spec.rebalance && spec.steps === 2) expected.notices.push([id, 'rebalance-recommendation']);
            }
          });
          expected.instances.sort((a, b) => a[0].localeCompare(b[0]));
          expected.notices.sort();

          await clear();
          for (const body of ordered) expect(await processor.handleBatch(REGION, [message(body)])).toHaveLength(1);
          const inOrder = await snapshot();
          expect(inOrder).toEqual(expected);

          await clear();
          const deliveries: Delivery[] = ordered.map((body, i) => ({
            body,
            order: shuffle[i][0],
            twice: shuffle[i][1],
          }));
          const shuffled = deliveries
            .flatMap((d) => (d.twice ? [d, { ...d, order: (d.order + 0.37) % 1 }] : [d]))
            .sort((a, b) => a.order - b.order)
            .map((d) => message(d.body));
          // Batches of ten, as SQS hands them out: events of different instances are handled in parallel.
          for (let i = 0; i < shuffled.length; i += 10) {
            const batch = shuffled.slice(i, i + 10);
            expect(await processor.handleBatch(REGION, batch)).toHaveLength(batch.length);
          }
          expect(await snapshot()).toEqual(inOrder);
        },
      ),
      { numRuns: 20 },
    );
  });
});
