import { Client } from 'pg';
import { JobRunRepository } from '../../src/state/job-run.repository';
import { LeaderLock, LeaderLockLostError } from '../../src/state/leader-lock.service';
import { waitFor } from '../jobs-support';
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

  it('should abort the run at once when the lock connection is lost, and give the lock to another session', async () => {
    const pids: { pid: number }[] = [];
    let aborted: { at: number; reason: unknown } | undefined;
    let killedAt = 0;
    const run = lock.withLock('e', async (signal) => {
      signal.addEventListener('abort', () => (aborted = { at: Date.now(), reason: signal.reason }));
      pids.push(
        ...(await h.dataSource.query(
          `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted
             AND ((classid::bigint << 32) | objid::bigint) = hashtextextended('ec2-manager:job:e', 0)`,
        )),
      );
      killedAt = Date.now();
      await h.dataSource.query(`SELECT pg_terminate_backend($1)`, [pids[0].pid]);
      // The work goes on (a slow EC2 call, say) and returns normally: the run is lost all the same.
      await new Promise((r) => setTimeout(r, 300));
      expect(signal.aborted).toBe(true);
      return 'finished anyway';
    });
    await expect(run).rejects.toBeInstanceOf(LeaderLockLostError);
    expect(pids).toHaveLength(1);
    expect(aborted!.reason).toBeInstanceOf(LeaderLockLostError);
    expect(aborted!.at - killedAt).toBeLessThan(300);
    await expect(lock.withLock('e', () => Promise.resolve('next'))).resolves.toEqual({
      acquired: true,
      result: 'next',
    });
  });

  it('should abort the run when the lock connection stops answering, though no error arrives', async () => {
    lock.setTiming({ checkEveryMs: 50, checkTimeoutMs: 300 });
    let frozen: number | undefined;
    try {
      const run = lock.withLock('f', async (signal) => {
        const [{ pid }]: { pid: number }[] = await h.dataSource.query(
          `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted
             AND ((classid::bigint << 32) | objid::bigint) = hashtextextended('ec2-manager:job:f', 0)`,
        );
        // The lock's backend stops (as a frozen server or a silent network partition looks from here).
        process.kill(pid, 'SIGSTOP');
        frozen = pid;
        await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
        return 'never';
      });
      await expect(run).rejects.toBeInstanceOf(LeaderLockLostError);
    } finally {
      if (frozen) process.kill(frozen, 'SIGCONT');
      lock.setTiming({ checkEveryMs: 2000, checkTimeoutMs: 5000 });
    }
    // Its connection was closed rather than pooled: the server lets the lock go.
    await waitFor(async () => !(await lock.isHeld('f')), 5000);
  });

  it('should start a job run only when the last finished one started long enough ago', async () => {
    const runs = h.get(JobRunRepository);
    const a = await runs.start('job-x', 'replica-a', 60);
    expect(a).not.toBeNull();
    // Unfinished: replica-a crashed, or its run was fenced. It does not hold the job back.
    const b = await runs.start('job-x', 'replica-b', 60);
    expect(b).not.toBeNull();
    await runs.finish(b!, true, null);
    expect(await runs.find('job-x')).toMatchObject({ runner: 'replica-b', ok: true, error: null });
    expect(await runs.start('job-x', 'replica-a', 60)).toBeNull();
    // The fenced run of replica-a ending late leaves replica-b's record alone.
    await runs.finish(a!, false, 'late');
    await runs.abort(a!, 'leader lock lost');
    expect(await runs.find('job-x')).toMatchObject({ runner: 'replica-b', ok: true, error: null });

    const c = await runs.start('job-x', 'replica-c', 0);
    await runs.abort(c!, 'leader lock lost');
    expect(await runs.find('job-x')).toMatchObject({ runner: 'replica-c', ok: false, finished: null });
    expect((await runs.find('job-x'))!.error).toMatch(/^aborted: /);
    const d = await runs.start('job-x', 'replica-d', 60);
    expect(d).not.toBeNull();
    await runs.finish(d!, false, 'it broke');
    expect(await runs.find('job-x')).toMatchObject({ runner: 'replica-d', ok: false, error: 'it broke' });
    expect(await runs.start('job-x', 'replica-a', 60)).toBeNull();
  });
});
