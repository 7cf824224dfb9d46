import { INestApplication, Logger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { AppModule } from '../../src/app.module';
import { keyPairNameFor } from '../../src/ec2/naming';
import { EventCounters } from '../../src/event-listener/event-counters.service';
import { createEventsHarness, EventsHarness, REGION, waitFor } from './support';

Logger.overrideLogger(['error']);

const COUNT = 150;

describe('event listener shutdown', () => {
  let h: EventsHarness;

  beforeAll(async () => {
    // Compiled, not started: setup has made the queues, no consumer runs until a test starts an app. A
    // visibility timeout no batch outlasts: with several consumers per queue, a batch slower than 1 s
    // would be received again by another (at-least-once, harmless) and counted twice below.
    h = await createEventsHarness({ init: false, env: { SQS_VISIBILITY_TIMEOUT_SECONDS: 30 } });
  });
  afterAll(() => h.close());

  const start = async (): Promise<INestApplication> => {
    const module = await Test.createTestingModule({ imports: [AppModule.forRoot(h.config)] }).compile();
    const app = module.createNestApplication({ logger: ['error'] });
    await app.init();
    return app;
  };
  const handled = (app: INestApplication) => app.get(EventCounters).snapshot().handled;
  const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

  it('should finish the batches in hand when stopped mid-queue, and lose nothing', async () => {
    h.sandbox.control.seedInstances({
      region: REGION,
      count: COUNT,
      keyName: keyPairNameFor(h.config, 'many'),
      emitEvents: true,
    });
    await h.sandbox.control.flushEvents();
    expect((await h.queueDepth()).visible).toBe(COUNT);

    const first = await start();
    await waitFor(
      () => Promise.resolve(total(handled(first))),
      (n) => n >= 10,
    );
    await first.close();
    const byFirst = handled(first);
    // Everything the first service handled is committed: no handled event was cut off half-way.
    const rows = (await h.instances.list({ workerType: 'many' })).length;
    expect(byFirst['state-change/added']).toBe(rows);
    expect(rows).toBeLessThan(COUNT);

    const second = await start();
    try {
      // A long poll the first service cut short at close may still have been answered by the queue: its
      // messages are in flight, unseen by us, and come back only after their visibility timeout.
      const redelivery = 30_000 + 15_000;
      await waitFor(
        async () => (await h.instances.list({ workerType: 'many' })).length,
        (n) => n === COUNT,
        redelivery,
      );
      await waitFor(
        () => h.queueDepth(),
        (d) => d.visible + d.inFlight === 0,
        redelivery,
      );
      // Nothing the first service committed came back: its batches were deleted before it stopped.
      expect(handled(second)).toEqual({ 'state-change/added': COUNT - rows });
      expect(await h.queueDepth(true)).toEqual({ visible: 0, inFlight: 0 });
    } finally {
      await second.close();
    }
  }, 120_000);
});
