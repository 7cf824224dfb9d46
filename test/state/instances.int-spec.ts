import { Client } from 'pg';
import { InstanceRepository } from '../../src/state/instance.repository';
import { SpotRequestRepository } from '../../src/state/spot-request.repository';
import { Tx } from '../../src/state/tx.service';
import { makeInstance, makeSpotRequest } from '../factories';
import { createStateHarness, StateHarness } from '../state-harness';

describe('instances in state', () => {
  let h: StateHarness;
  let instances: InstanceRepository;
  let requests: SpotRequestRepository;
  const t0 = new Date('2026-01-01T00:00:00Z');
  const at = (seconds: number): Date => new Date(t0.getTime() + seconds * 1000);
  /** One event, in a transaction of its own (the row lock lasts until it ends), as the listener applies it. */
  const applyEvent = (region: string, id: string, state: string, time: Date) =>
    h.get(Tx).run((m) => instances.applyEvent(region, id, state, time, m));

  beforeAll(async () => {
    h = await createStateHarness();
    instances = h.get(InstanceRepository);
    requests = h.get(SpotRequestRepository);
  });
  beforeEach(() => h.truncate());
  afterAll(() => h.close());

  it('upserting an instance with a spot request id removes that request in the same transaction', async () => {
    const request = makeSpotRequest();
    const other = makeSpotRequest();
    await requests.upsertMany([request, other]);
    await instances.upsert(makeInstance({ spotRequestId: request.id, region: request.region }));

    expect((await requests.list()).map((r) => r.id)).toEqual([other.id]);
  });

  it('does not remove a request of the same id in another region', async () => {
    const request = makeSpotRequest({ region: 'us-west-2', id: 'sir-same' });
    await requests.upsert(request);
    await instances.upsert(makeInstance({ region: 'us-east-1', spotRequestId: 'sir-same' }));
    expect(await requests.find('us-west-2', 'sir-same')).not.toBeNull();
  });

  it('rolls the request removal back with the caller transaction', async () => {
    const request = makeSpotRequest();
    await requests.upsert(request);
    await expect(
      h.get(Tx).run(async (tx) => {
        await instances.upsert(makeInstance({ spotRequestId: request.id }), tx);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await requests.find(request.region, request.id)).not.toBeNull();
    expect(await instances.list()).toEqual([]);
  });

  it('an upsert never replaces a row that carries a newer event', async () => {
    const row = makeInstance({ state: 'running', lastEvent: at(10) });
    await instances.upsert(row);
    await instances.upsert({ ...row, state: 'pending', lastEvent: at(5) });
    expect((await instances.find(row.region, row.id))?.state).toBe('running');
    await instances.upsert({ ...row, state: 'pending', lastEvent: at(11), instanceType: 'c5.xlarge' });
    expect(await instances.find(row.region, row.id)).toMatchObject({ state: 'pending', instanceType: 'c5.xlarge' });
  });

  it('upsertMany writes thousands of rows in one call', async () => {
    const rows = Array.from({ length: 5000 }, (_, n) => makeInstance({ id: `i-${String(n).padStart(17, '0')}` }));
    await instances.upsertMany(rows);
    expect(await instances.list({ region: 'us-east-1' })).toHaveLength(5000);
  });

  describe('applying state-change events', () => {
    it('an event for an instance not in state reports it absent and changes nothing', async () => {
      expect(await applyEvent('us-east-1', 'i-missing', 'running', at(1))).toBe('absent');
      expect(await instances.list()).toEqual([]);
    });

    it('a newer live state updates state and last_event', async () => {
      const row = makeInstance({ lastEvent: at(0) });
      await instances.upsert(row);
      const before = (await instances.find(row.region, row.id))!.touched;
      expect(await applyEvent(row.region, row.id, 'running', at(5))).toBe('updated');
      const after = (await instances.find(row.region, row.id))!;
      expect(after).toMatchObject({ state: 'running', lastEvent: at(5) });
      expect(after.touched.getTime()).toBeGreaterThanOrEqual(before.getTime());
    });

    it('older events, and events of the same time and an earlier or the same state, change nothing', async () => {
      const row = makeInstance({ state: 'running', lastEvent: at(10) });
      await instances.upsert(row);
      expect(await applyEvent(row.region, row.id, 'pending', at(9))).toBe('out-of-order');
      expect(await applyEvent(row.region, row.id, 'terminated', at(9))).toBe('out-of-order');
      expect(await applyEvent(row.region, row.id, 'pending', at(10))).toBe('out-of-order');
      // A duplicate delivery.
      expect(await applyEvent(row.region, row.id, 'running', at(10))).toBe('out-of-order');
      expect(await instances.find(row.region, row.id)).toMatchObject({ state: 'running', lastEvent: at(10) });
    });

    describe('the tie rule: events of the same second are ordered by the lifecycle (SPEC §3)', () => {
      it('a running of the same second as the pending applies, in either delivery order', async () => {
        const inOrder = makeInstance({ state: 'pending', lastEvent: at(10) });
        await instances.upsert(inOrder);
        expect(await applyEvent(inOrder.region, inOrder.id, 'running', at(10))).toBe('updated');
        expect(await instances.find(inOrder.region, inOrder.id)).toMatchObject({ state: 'running', lastEvent: at(10) });

        const reversed = makeInstance({ state: 'running', lastEvent: at(10) });
        await instances.upsert(reversed);
        expect(await applyEvent(reversed.region, reversed.id, 'pending', at(10))).toBe('out-of-order');
        expect(await instances.find(reversed.region, reversed.id)).toMatchObject({ state: 'running' });
      });

      it.each(['stopping', 'stopped', 'shutting-down', 'terminated'])(
        'a %s of the same second as the running removes the row',
        async (state) => {
          const row = makeInstance({ state: 'running', lastEvent: at(10) });
          await instances.upsert(row);
          expect(await applyEvent(row.region, row.id, state, at(10))).toBe('removed');
          expect(await instances.find(row.region, row.id)).toBeNull();
        },
      );

      it('an upsert of the same time does not put a row back to an earlier state', async () => {
        const row = makeInstance({ state: 'running', lastEvent: at(10) });
        await instances.upsert(row);
        await instances.upsert({ ...row, state: 'pending', instanceType: 'c5.xlarge' });
        expect(await instances.find(row.region, row.id)).toMatchObject({ state: 'running', instanceType: 'm5.large' });
        await instances.upsert({
          ...makeInstance({ id: row.id, state: 'running', lastEvent: at(10) }),
          az: 'us-east-1b',
        });
        expect(await instances.find(row.region, row.id)).toMatchObject({ state: 'running', az: 'us-east-1b' });
      });
    });

    it.each(['shutting-down', 'stopping', 'stopped', 'terminated'])(
      'a newer %s event removes the row',
      async (state) => {
        const row = makeInstance({ lastEvent: at(0) });
        await instances.upsert(row);
        expect(await applyEvent(row.region, row.id, state, at(1))).toBe('removed');
        expect(await instances.find(row.region, row.id)).toBeNull();
      },
    );

    it('two events for one instance racing from two connections end in the newer state', async () => {
      const row = makeInstance({ lastEvent: at(0) });
      await instances.upsert(row);
      for (let round = 0; round < 10; round++) {
        const results = await Promise.all([
          applyEvent(row.region, row.id, 'running', at(2 * round + 2)),
          applyEvent(row.region, row.id, 'pending', at(2 * round + 1)),
        ]);
        expect(results.filter((r) => r === 'updated').length).toBeGreaterThanOrEqual(1);
        expect(await instances.find(row.region, row.id)).toMatchObject({
          state: 'running',
          lastEvent: at(2 * round + 2),
        });
      }
    });
  });

  it('concurrent upserts of one instance from two connections end in one row', async () => {
    const row = makeInstance();
    const clients = [new Client(h.db.url), new Client(h.db.url)];
    await Promise.all(clients.map((c) => c.connect()));
    try {
      const sql = `INSERT INTO instances (region, id, worker_type, az, instance_type, state, image_id, launched, last_event)
        VALUES ($1, $2, 'builder', 'us-east-1a', 'm5.large', $3, 'ami-1', now(), $4)
        ON CONFLICT (region, id) DO UPDATE SET state = EXCLUDED.state, last_event = EXCLUDED.last_event
        WHERE instances.last_event <= EXCLUDED.last_event`;
      // The first transaction holds its uncommitted insert while the second inserts the same key: the
      // second must wait for the first, then turn into an update of the committed row.
      await Promise.all(clients.map((c) => c.query('BEGIN')));
      await clients[0].query(sql, [row.region, row.id, 'pending', at(1)]);
      const second = clients[1].query(sql, [row.region, row.id, 'running', at(2)]);
      await new Promise((r) => setTimeout(r, 50));
      await clients[0].query('COMMIT');
      await second;
      await clients[1].query('COMMIT');
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
    // And the repository's own upsert, twice in parallel through the pool:
    await Promise.all([instances.upsert({ ...row, lastEvent: at(3) }), instances.upsert({ ...row, lastEvent: at(3) })]);
    const rows = await instances.list({ ids: [row.id] });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ lastEvent: at(3), state: 'pending' });
  });

  it('removes one or many rows of one region and tells how many were there', async () => {
    const a = makeInstance();
    const b = makeInstance();
    const c = makeInstance({ region: 'us-west-2' });
    await instances.upsertMany([a, b, c]);
    expect(await instances.remove(a.region, a.id)).toBe(true);
    expect(await instances.remove(a.region, a.id)).toBe(false);
    expect(await instances.removeMany('us-east-1', [b.id, c.id, 'i-unknown'])).toBe(1);
    expect((await instances.list()).map((i) => i.id)).toEqual([c.id]);
  });

  it('lists with filters', async () => {
    const rows = [
      makeInstance({ workerType: 'a', state: 'running' }),
      makeInstance({ workerType: 'a', state: 'pending', region: 'us-west-2' }),
      makeInstance({ workerType: 'b', state: 'running' }),
    ];
    await instances.upsertMany(rows);
    expect(await instances.list({ workerType: 'a' })).toHaveLength(2);
    expect(await instances.list({ workerType: 'a', state: 'running' })).toHaveLength(1);
    expect(await instances.list({ region: 'us-west-2' })).toHaveLength(1);
    expect(await instances.list({ ids: [rows[0].id, rows[2].id] })).toHaveLength(2);
    expect(await instances.list()).toHaveLength(3);
  });
});
