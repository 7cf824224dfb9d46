import { PendingTagRepository, UntaggedResource } from '../../src/state/pending-tag.repository';
import { Tx } from '../../src/state/tx.service';
import { createStateHarness, StateHarness } from '../state-harness';

const REGION = 'us-east-1';

const resources = (n: number, prefix = 'i-'): UntaggedResource[] =>
  Array.from({ length: n }, (_, k) => ({
    region: REGION,
    resourceId: `${prefix}${k.toString(16).padStart(17, '0')}`,
    workerType: k % 2 ? 'odd' : 'even',
  }));

describe('resources waiting for tags (pending_tags)', () => {
  let h: StateHarness;
  let pending: PendingTagRepository;
  let tx: Tx;

  beforeAll(async () => {
    h = await createStateHarness();
    pending = h.get(PendingTagRepository);
    tx = h.get(Tx);
  });
  afterAll(() => h.close());
  beforeEach(() => h.truncate());

  it('should give replicas claiming at once disjoint rows, and no row again before its lease runs out', async () => {
    await tx.run((m) => pending.add(resources(300), m));

    const claims = await Promise.all([1, 2, 3].map(() => pending.claimDue(120, 60)));

    const ids = claims.flat().map((c) => c.resourceId);
    expect(ids).toHaveLength(300);
    expect(new Set(ids).size).toBe(300);
    expect(claims.flat().every((c) => c.attempts === 1)).toBe(true);
    expect(await pending.claimDue(1000, 60)).toEqual([]);
  });

  it('should hand a claim whose lease ran out (its claimer died) to the next claimer', async () => {
    await tx.run((m) => pending.add(resources(3), m));
    expect(await pending.claimDue(10, 0)).toHaveLength(3);
    const again = await pending.claimDue(10, 60);
    expect(again.map((c) => c.attempts)).toEqual([2, 2, 2]);
  });

  it('should keep a failed row back for its back-off, and make a released one due at once', async () => {
    await tx.run((m) => pending.add(resources(2), m));
    const [a, b] = await pending.claimDue(10, 60);
    await pending.retryLater(REGION, [a.resourceId], { baseSeconds: 60, maxSeconds: 300 });
    await pending.release(REGION, [b.resourceId]);
    expect((await pending.claimDue(10, 60)).map((c) => c.resourceId)).toEqual([b.resourceId]);
  });

  it('should keep one row per resource, forget tagged ones, and count what waits', async () => {
    await tx.run((m) => pending.add(resources(4), m));
    await tx.run((m) => pending.add(resources(6), m));
    const all = resources(6).map((r) => r.resourceId);
    expect(await pending.forget(REGION, all.slice(0, 2))).toBe(2);
    expect((await pending.waitingAmong(REGION, all)).map((r) => r.resourceId).sort()).toEqual(all.slice(2).sort());
    expect(await pending.countByRegion()).toEqual([{ region: REGION, count: 4, oldestSeconds: expect.any(Number) }]);
  });

  it('should run after-commit hooks once the transaction commits, never when it rolls back', async () => {
    const seen: string[] = [];
    await tx.run(async (m) => {
      await pending.add(resources(1), m);
      expect(tx.afterCommit(m, () => seen.push('committed'))).toBe(true);
      expect(seen).toEqual([]);
    });
    expect(seen).toEqual(['committed']);
    await expect(
      tx.run(async (m) => {
        await pending.add(resources(1, 'vol-'), m);
        tx.afterCommit(m, () => seen.push('rolled back'));
        throw new Error('no');
      }),
    ).rejects.toThrow('no');
    expect(seen).toEqual(['committed']);
    expect(await pending.countByRegion()).toEqual([{ region: REGION, count: 1, oldestSeconds: expect.any(Number) }]);
    expect(tx.afterCommit(h.dataSource.manager, () => seen.push('no transaction'))).toBe(false);
  });
});
