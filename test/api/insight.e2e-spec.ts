import { Tx } from '../../src/state/tx.service';
import { InstanceRepository } from '../../src/state/instance.repository';
import { AppHarness } from '../app-harness';
import { makeInstance } from '../factories';
import { api, createApiHarness } from './support';

/** SPEC §12 read endpoints: what they answer and what they refuse. */
describe('insight API', () => {
  let h: AppHarness;

  beforeAll(async () => {
    h = await createApiHarness();
  });
  afterAll(() => h.close());
  beforeEach(() => h.reset());

  describe('listTerminations', () => {
    it('pages newest first with a cursor, filters by since, counts per reason', async () => {
      const instances = h.get(InstanceRepository);
      const rows = Array.from({ length: 5 }, (_, n) =>
        makeInstance({ workerType: 'builder', id: `i-0000000000000000${n}` }),
      );
      await instances.upsertMany([...rows, makeInstance({ workerType: 'other' })]);
      for (const [n, r] of rows.entries()) {
        const cause = { reason: n < 2 ? ('zombie' as const) : undefined, at: new Date(Date.UTC(2026, 0, 1 + n)) };
        await h.get(Tx).run((m) => instances.removeWithCause(r.region, [r.id], cause, m));
      }
      const first = await api(h).get('/v1/worker-types/builder/terminations?limit=3').expect(200);
      expect(first.body.terminations.map((t: { instanceId: string }) => t.instanceId)).toEqual([
        rows[4].id,
        rows[3].id,
        rows[2].id,
      ]);
      expect(first.body.counts).toEqual([
        { reason: 'unresolved', count: 3 },
        { reason: 'zombie', count: 2 },
      ]);
      expect(first.body.terminations[0]).toMatchObject({
        reason: 'unresolved',
        lifecycle: 'on-demand',
        az: 'us-east-1a',
      });
      const second = await api(h)
        .get(`/v1/worker-types/builder/terminations?limit=3&cursor=${first.body.nextCursor}`)
        .expect(200);
      expect(second.body.terminations.map((t: { reason: string }) => t.reason)).toEqual(['zombie', 'zombie']);
      expect(second.body.nextCursor).toBeNull();

      const since = await api(h).get('/v1/worker-types/builder/terminations?since=2026-01-04T00:00:00Z').expect(200);
      expect(since.body.terminations).toHaveLength(2);
      expect(since.body.counts).toEqual([{ reason: 'unresolved', count: 2 }]);
    });

    it.each([
      ['since=yesterday', 'since'],
      ['limit=0', 'limit'],
      ['limit=abc', 'limit'],
      ['cursor=bm90LWEtY3Vyc29y', 'cursor'],
      ['cursor=a%20b', 'cursor'],
      ['colour=red', 'colour'],
    ])('refuses %s with a 400 naming %s', async (query, path) => {
      const res = await api(h).get(`/v1/worker-types/builder/terminations?${query}`).expect(400);
      expect(res.body).toMatchObject({ code: 'InputError' });
      expect(res.body.details.reasons.map((r: { path: string }) => r.path)).toContain(path);
    });
  });
});
