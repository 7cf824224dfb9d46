import { TurnBatch } from './turn-batch';

describe('TurnBatch', () => {
  it('answers the calls of one turn with one load of their distinct keys', async () => {
    const loads: string[][] = [];
    const batch = new TurnBatch((keys: string[]) => {
      loads.push(keys);
      return Promise.resolve(new Map(keys.map((k) => [k, k.toUpperCase()])));
    });
    const answers = await Promise.all([batch.get('a'), batch.get('b'), batch.get('a')]);
    expect(answers).toEqual(['A', 'B', 'A']);
    expect(loads).toEqual([['a', 'b']]);
  });

  it('loads again for calls made after a batch was sent: nothing is kept', async () => {
    let version = 0;
    const batch = new TurnBatch((keys: string[]) => Promise.resolve(new Map(keys.map((k) => [k, `${k}${++version}`]))));
    expect(await batch.get('a')).toBe('a1');
    expect(await batch.get('a')).toBe('a2');
  });

  it('rejects every call of a batch whose load fails, and the next batch loads afresh', async () => {
    let fail = true;
    const batch = new TurnBatch((keys: string[]) =>
      fail ? Promise.reject(new Error('database gone')) : Promise.resolve(new Map(keys.map((k) => [k, 1]))),
    );
    await expect(Promise.all([batch.get('a'), batch.get('b')])).rejects.toThrow('database gone');
    fail = false;
    expect(await batch.get('a')).toBe(1);
  });

  it('rejects a call whose key the load did not answer', async () => {
    const batch = new TurnBatch((keys: string[]) =>
      Promise.resolve(new Map(keys.filter((k) => k !== 'b').map((k) => [k, 1]))),
    );
    await expect(batch.get('b')).rejects.toThrow('no value for b');
  });
});
