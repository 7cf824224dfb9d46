import { INSTANCE_IDS, settleIds } from './batches';

/** An SDK error as EC2 sends it (the SDK puts EC2's code in `name`). */
function ec2Error(code: string, message: string): Error {
  return Object.assign(new Error(message), { name: code, $metadata: { httpStatusCode: 400 } });
}

/** A fake EC2 call that refuses any batch holding an id it does not know, naming them or not. */
function fakeTerminate(known: Set<string>, opts: { names: boolean; code?: string }) {
  const calls: string[][] = [];
  const call = (ids: string[]) => {
    calls.push(ids);
    const missing = ids.filter((id) => !known.has(id));
    if (missing.length > 0) {
      const code = opts.code ?? 'InvalidInstanceID.NotFound';
      const text = opts.names ? `The instance IDs '${missing.join("', '")}' do not exist` : 'Some ids do not exist';
      return Promise.reject(ec2Error(code, `us-east-1 TerminateInstances: ${text} (request 1a2b-i-0ffff)`));
    }
    return Promise.resolve(ids);
  };
  return { calls, call };
}

const ids = (n: number, prefix = 'i-0a') =>
  Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(4, '0')}`);

describe('settleIds: the one way a batch refused for some of its ids is handled', () => {
  it('sets the named ids aside, runs the rest once more, and reports them unknown (never done)', async () => {
    const all = ids(10);
    const fake = fakeTerminate(new Set(all.slice(2)), { names: true });
    const settled = await settleIds(all, INSTANCE_IDS, fake.call);
    expect(settled.results.sort()).toEqual(all.slice(2));
    expect(settled.unknown.sort()).toEqual(all.slice(0, 2));
    expect(fake.calls).toHaveLength(2);
  });

  it('does not take an id for named because another one contains it', async () => {
    // `i-0a0001` is a prefix of `i-0a00012`: only the exact token counts.
    const fake = fakeTerminate(new Set(['i-0a0001']), { names: true });
    const settled = await settleIds(['i-0a0001', 'i-0a00012'], INSTANCE_IDS, fake.call);
    expect(settled).toEqual({ results: ['i-0a0001'], unknown: ['i-0a00012'], malformed: [] });
  });

  it('bisects when EC2 names none of them, down to each refused id', async () => {
    const all = ids(16);
    const bad = new Set([all[3], all[12]]);
    const fake = fakeTerminate(new Set(all.filter((id) => !bad.has(id))), { names: false });
    const settled = await settleIds(all, INSTANCE_IDS, fake.call);
    expect(settled.unknown.sort()).toEqual([...bad].sort());
    expect(settled.results.sort()).toEqual(all.filter((id) => !bad.has(id)).sort());
    // Far fewer calls than one per id.
    expect(fake.calls.length).toBeLessThan(16);
  });

  it('reports malformed ids apart from unknown ones', async () => {
    const fake = fakeTerminate(new Set(['i-0a0001']), { names: false, code: 'InvalidInstanceID.Malformed' });
    const settled = await settleIds(['i-0a0001', 'not-an-id'], INSTANCE_IDS, fake.call);
    expect(settled).toEqual({ results: ['i-0a0001'], unknown: [], malformed: ['not-an-id'] });
  });

  it('throws any other refusal as it came, and asks for nothing when given nothing', async () => {
    const err = ec2Error('UnauthorizedOperation', 'no');
    await expect(settleIds(['i-0a0001'], INSTANCE_IDS, () => Promise.reject(err))).rejects.toBe(err);
    const fake = fakeTerminate(new Set(), { names: true });
    expect(await settleIds([], INSTANCE_IDS, fake.call)).toEqual({ results: [], unknown: [], malformed: [] });
    expect(fake.calls).toEqual([]);
  });
});
