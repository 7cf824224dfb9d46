import { Client } from 'pg';
import { JobRunRepository } from '../../src/state/job-run.repository';
import { LeaderLock } from '../../src/state/leader-lock.service';
import { createStateHarness, StateHarness } from '../state-harness';

describe('LeaderLock and job runs', () => {
  let h: StateHarness;
  let lock: LeaderLock;
  beforeAll(async () => {
    h = await createStateHarness();
    lock = h.get(LeaderLock);
  });
  afterAll(() => h.close());

  it('should let one session at a time hold a lock, other names being independent', async () => {
    const inner = await lock.withLock('a', async () => {
      expect(await lock.isHeld('a')).toBe(true);
      const same = await lock.withLock('a', () => Promise.resolve('second'));
      const other = await lock.withLock('b', () => Promise.resolve('b ran'));
      return { same, other };
    });
    expect(inner).toEqual({
      acquired: true,
      result: { same: { acquired: false }, other: { acquired: true, result: 'b ran' } },
    });
    expect(await lock.isHeld('a')).toBe(false);
    await expect(lock.withLock('a', () => Promise.resolve(1))).resolves.toEqual({ acquired: true, result: 1 });
  });

  it('should tell whether a lock is held, whatever the sign of its key', async () => {
    const names = Array.from({ length: 12 }, (_, i) => `job-${i}`);
    const signs: { s: number }[] = await h.dataSource.query(
      `SELECT sign(hashtextextended('ec2-manager:job:' || n, 0))::int AS s FROM unnest($1::text[]) n`,
      [names],
    );
    expect(new Set(signs.map((r) => r.s))).toEqual(new Set([1, -1]));
    for (const name of names) {
      await lock.withLock(name, async () => expect(await lock.isHeld(name)).toBe(true));
      expect(await lock.isHeld(name)).toBe(false);
    }
  });

  it('should release the lock when the run fails, and pass the error on', async () => {
    await expect(lock.withLock('c', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await lock.isHeld('c')).toBe(false);
    await expect(lock.withLock('c', () => Promise.resolve('again'))).resolves.toEqual({
      acquired: true,
      result: 'again',
    });
  });

  it("should hand the lock over when its holder's connection dies (a crashed replica)", async () => {
    const other = new Client({ connectionString: h.db.url });
    await other.connect();
    const { rows } = await other.query<{ locked: boolean; pid: number }>(
      `SELECT pg_try_advisory_lock(hashtextextended('ec2-manager:job:d', 0)) AS locked, pg_backend_pid() AS pid`,
    );
    expect(rows[0].locked).toBe(true);
    await expect(lock.withLock('d', () => Promise.resolve('x'))).resolves.toEqual({ acquired: false });

    other.on('error', () => undefined);
    await h.dataSource.query(`SELECT pg_terminate_backend($1)`, [rows[0].pid]);
    await other.end().catch(() => undefined);

    await expect(lock.withLock('d', () => Promise.resolve('taken over'))).resolves.toEqual({
      acquired: true,
      result: 'taken over',
    });
  });

  it('should start a job run only when the last one started long enough ago', async () => {
    const runs = h.get(JobRunRepository);
    expect(await runs.start('job-x', 'replica-a', 60)).toBe(true);
    expect(await runs.start('job-x', 'replica-b', 60)).toBe(false);
    await runs.finish('job-x', true, null);
    expect(await runs.find('job-x')).toMatchObject({ runner: 'replica-a', ok: true, error: null });
    expect(await runs.start('job-x', 'replica-b', 0)).toBe(true);
    await runs.finish('job-x', false, 'it broke');
    expect(await runs.find('job-x')).toMatchObject({ runner: 'replica-b', ok: false, error: 'it broke' });
  });
});
