/**
 * Calls made in the same turn of the event loop, answered by one `load` of all their keys, run after
 * the turn's I/O callbacks (`setImmediate`). Nothing is kept between batches: each call's load starts
 * after the call was made and answers it as soon as it returns, so an answer is as fresh as the call's
 * own query would have been. What it saves is the query per call: under many concurrent callers each
 * would wait for a pool connection and a round trip of its own.
 */
export class TurnBatch<K, V> {
  private waiting = new Map<K, { resolve: (v: V) => void; reject: (err: unknown) => void }[]>();

  constructor(private readonly load: (keys: K[]) => Promise<Map<K, V>>) {}

  get(key: K): Promise<V> {
    return new Promise<V>((resolve, reject) => {
      if (!this.waiting.size) setImmediate(() => this.flush());
      const callers = this.waiting.get(key);
      if (callers) callers.push({ resolve, reject });
      else this.waiting.set(key, [{ resolve, reject }]);
    });
  }

  private flush(): void {
    const batch = this.waiting;
    this.waiting = new Map();
    this.load([...batch.keys()]).then(
      (values) => {
        for (const [key, callers] of batch) {
          if (values.has(key)) for (const c of callers) c.resolve(values.get(key)!);
          else for (const c of callers) c.reject(new Error(`the batch load gave no value for ${String(key)}`));
        }
      },
      (err: unknown) => {
        for (const callers of batch.values()) for (const c of callers) c.reject(err);
      },
    );
  }
}
