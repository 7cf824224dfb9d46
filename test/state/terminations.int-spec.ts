import type { EntityManager } from 'typeorm';
import { HousekeepingRepository } from '../../src/state/housekeeping.repository';
import { InstanceRepository } from '../../src/state/instance.repository';
import { SpotPriceRepository } from '../../src/state/spot-price.repository';
import { TerminationNoticeRepository } from '../../src/state/termination-notice.repository';
import { TerminationRepository } from '../../src/state/termination.repository';
import { Tx } from '../../src/state/tx.service';
import { makeInstance } from '../factories';
import { createStateHarness, StateHarness } from '../state-harness';

describe('terminations: every instance leaving state is recorded, with why', () => {
  let h: StateHarness;
  let instances: InstanceRepository;
  let terminations: TerminationRepository;
  const reasonOf = async (id: string) =>
    (await terminations.list({ workerType: 'builder', limit: 1000 })).terminations.find((t) => t.instanceId === id)
      ?.reason;

  const inTx = <T>(fn: (m: EntityManager) => Promise<T>): Promise<T> => h.get(Tx).run(fn);

  beforeAll(async () => {
    h = await createStateHarness();
    instances = h.get(InstanceRepository);
    terminations = h.get(TerminationRepository);
  });
  beforeEach(() => h.truncate());
  afterAll(() => h.close());

  it('an event removal is unresolved (EC2 asked later) at the event time; a spot interruption notice names it', async () => {
    const plain = makeInstance({ state: 'running' });
    const noticed = makeInstance({ state: 'running', spotRequestId: 'sir-1' });
    await instances.upsertMany([plain, noticed]);
    await h.get(TerminationNoticeRepository).record({
      region: noticed.region,
      instanceId: noticed.id,
      kind: 'spot-interruption',
      action: 'terminate',
      notBefore: null,
      received: undefined,
    });
    const eventTime = new Date(Date.now() - 5000);
    await inTx((m) => instances.applyEvent(plain.region, plain.id, 'shutting-down', eventTime, m));
    await inTx((m) => instances.applyEvent(noticed.region, noticed.id, 'terminated', eventTime, m));

    const page = await terminations.list({ workerType: 'builder', limit: 10 });
    const byId = new Map(page.terminations.map((t) => [t.instanceId, t]));
    expect(byId.get(plain.id)).toMatchObject({ reason: 'unresolved', lifecycle: 'on-demand', ended: eventTime });
    expect(byId.get(noticed.id)).toMatchObject({ reason: 'spot-interruption', lifecycle: 'spot' });
  });

  it('a batch of events ends each instance it removes at its own event time, in one write', async () => {
    const [a, b, kept] = [makeInstance(), makeInstance(), makeInstance({ state: 'running' })];
    await instances.upsertMany([a, b, kept]);
    const t = Date.now() - 60_000;
    const outcomes = await inTx((m) =>
      instances.applyEvents(
        'us-east-1',
        [
          { id: a.id, state: 'shutting-down', time: new Date(t + 1000) },
          { id: b.id, state: 'stopped', time: new Date(t + 7000) },
          { id: a.id, state: 'terminated', time: new Date(t + 9000) },
          { id: kept.id, state: 'running', time: new Date(t + 3000) },
          { id: 'i-0nowhere', state: 'terminated', time: new Date(t + 5000) },
        ],
        m,
      ),
    );
    expect(outcomes).toEqual(['removed', 'removed', 'absent', 'updated', 'absent']);
    const byId = new Map(
      (await terminations.list({ workerType: 'builder', limit: 10 })).terminations.map((x) => [x.instanceId, x]),
    );
    expect(byId.get(a.id)?.ended).toEqual(new Date(t + 1000));
    expect(byId.get(b.id)?.ended).toEqual(new Date(t + 7000));
    expect(byId.has(kept.id)).toBe(false);
    expect((await instances.find('us-east-1', kept.id))?.lastEvent).toEqual(new Date(t + 3000));
  });

  it('our decision names it, also when an event removed the row first, and a cause never leaks into a later removal', async () => {
    const zombie = makeInstance();
    const raced = makeInstance();
    const later = makeInstance();
    await instances.upsertMany([zombie, raced, later]);
    await inTx((m) => instances.applyEvent(raced.region, raced.id, 'shutting-down', new Date(), m));
    await h.get(Tx).run(async (tx) => {
      await instances.removeWithCause('us-east-1', [zombie.id, raced.id], { reason: 'zombie' }, tx);
      await instances.removeMany('us-east-1', [later.id], tx);
    });
    expect(await reasonOf(zombie.id)).toBe('zombie');
    expect(await reasonOf(raced.id)).toBe('zombie');
    expect(await reasonOf(later.id)).toBe('unresolved');
  });

  it('an instance of ours never in state is recorded from what EC2 said; a rolled-back removal records nothing', async () => {
    const never = makeInstance({ id: 'i-0never' });
    await inTx((m) =>
      instances.removeWithCause('us-east-1', [never.id], { reason: 'terminate-worker-type', instances: [never] }, m),
    );
    expect(await reasonOf(never.id)).toBe('terminate-worker-type');

    const kept = makeInstance();
    await instances.upsert(kept);
    await expect(
      h.get(Tx).run(async (tx) => {
        await instances.removeWithCause(kept.region, [kept.id], { reason: 'zombie' }, tx);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await reasonOf(kept.id)).toBeUndefined();
  });

  it('housekeeping removing an extraneous row records it too, with the price of its pool', async () => {
    await inTx((m) =>
      h
        .get(SpotPriceRepository)
        .replaceRegion(
          'us-east-1',
          [{ region: 'us-east-1', zone: 'us-east-1a', instanceType: 'm5.large', price: 0.031 }],
          new Date(),
          m,
        ),
    );
    const gone = makeInstance({ spotRequestId: 'sir-2', launched: new Date(Date.now() - 3600_000) });
    await instances.upsert(gone);
    await new Promise((r) => setTimeout(r, 5));
    const start = await h.get(HousekeepingRepository).now();
    await inTx((m) =>
      h.get(HousekeepingRepository).reconcileInstances('us-east-1', [], { start, describeLagGraceSeconds: 0 }, m),
    );
    const [t] = (await terminations.list({ workerType: 'builder', limit: 10 })).terminations;
    expect(t).toMatchObject({ instanceId: gone.id, reason: 'unresolved', hourlyPrice: 0.031 });
  });

  it('pages newest first without losing or repeating rows that ended in the same microsecond; since filters', async () => {
    const rows = Array.from({ length: 7 }, () => makeInstance());
    await instances.upsertMany(rows);
    const same = new Date('2026-03-01T10:00:00Z');
    await h.get(Tx).run(async (tx) => {
      await instances.removeWithCause(
        'us-east-1',
        rows.slice(0, 5).map((r) => r.id),
        { at: same },
        tx,
      );
    });
    await inTx((m) =>
      instances.removeWithCause(
        'us-east-1',
        rows.slice(5).map((r) => r.id),
        { at: new Date('2026-03-02T10:00:00Z') },
        m,
      ),
    );
    const seen: string[] = [];
    let after;
    do {
      const page = await terminations.list({ workerType: 'builder', limit: 2, after });
      seen.push(...page.terminations.map((t) => t.instanceId));
      after = page.next ?? undefined;
    } while (after);
    expect(seen).toHaveLength(7);
    expect(new Set(seen).size).toBe(7);
    expect(seen.slice(0, 2).sort()).toEqual(
      rows
        .slice(5)
        .map((r) => r.id)
        .sort(),
    );

    const since = await terminations.list({
      workerType: 'builder',
      limit: 10,
      since: new Date('2026-03-02T00:00:00Z'),
    });
    expect(since.terminations).toHaveLength(2);
    expect(await terminations.countByReason('builder', null)).toEqual([{ reason: 'unresolved', count: 7 }]);
  });

  it('resolving gives EC2 reasons to unresolved rows only', async () => {
    const a = makeInstance();
    const b = makeInstance();
    await instances.upsertMany([a, b]);
    await instances.remove(a.region, a.id);
    await inTx((m) => instances.removeWithCause(b.region, [b.id], { reason: 'terminate-instance' }, m));
    const changed = await terminations.resolve('us-east-1', [
      { instanceId: a.id, reason: 'instance-initiated', code: 'Client.InstanceInitiatedShutdown', message: 'm' },
      { instanceId: b.id, reason: 'user-initiated', code: 'Client.UserInitiatedShutdown', message: 'm' },
    ]);
    expect(changed).toBe(1);
    expect(await reasonOf(a.id)).toBe('instance-initiated');
    expect(await reasonOf(b.id)).toBe('terminate-instance');
  });
});
