export interface ScheduledTask {
  readonly due: number;
  cancelled: boolean;
}

interface Task extends ScheduledTask {
  readonly seq: number;
  readonly run: () => void;
}

/** Longest real delay a Node timer accepts. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Simulated time plus a task queue ordered by simulated due time.
 *
 * Simulated time runs at `speed` × real time (0 freezes it); `advance`/`set` jump it and run every task that falls
 * due on the way, each seeing `now()` equal to its own due time so that event timestamps stay exact.
 */
export class SimClock {
  private anchorSim: number;
  private anchorReal: number;
  private speed: number;
  private readonly heap: Task[] = [];
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private stopped = false;

  constructor(
    start: number,
    speed: number,
    private readonly onError: (err: unknown) => void,
  ) {
    this.anchorSim = start;
    this.anchorReal = Date.now();
    this.speed = speed;
  }

  now(): number {
    return this.anchorSim + (Date.now() - this.anchorReal) * this.speed;
  }

  getSpeed(): number {
    return this.speed;
  }

  get pendingTasks(): number {
    return this.heap.length;
  }

  setSpeed(speed: number): void {
    if (!(speed >= 0) || !Number.isFinite(speed)) throw new RangeError(`invalid clock speed ${speed}`);
    this.rebase(this.now());
    this.speed = speed;
    this.arm();
  }

  /** Moves simulated time forward by `ms`, running every task due on the way. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`cannot advance the clock by ${ms} ms`);
    this.set(this.now() + ms);
  }

  /** Jumps to `target`; going forward runs due tasks, going back only moves the clock. */
  set(target: number): void {
    for (let task = this.peek(); task && task.due <= target; task = this.peek()) {
      this.pop();
      if (task.cancelled) continue;
      if (task.due > this.now()) this.rebase(task.due);
      this.invoke(task);
    }
    this.rebase(target);
    this.arm();
  }

  at(due: number, run: () => void): ScheduledTask {
    const task: Task = { due, run, seq: this.seq++, cancelled: false };
    this.push(task);
    if (this.peek() === task) this.arm();
    return task;
  }

  after(seconds: number, run: () => void): ScheduledTask {
    return this.at(this.now() + seconds * 1000, run);
  }

  /** Drops every queued task (the sandbox was reset). */
  clearTasks(): void {
    this.heap.length = 0;
    this.arm();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private rebase(sim: number): void {
    this.anchorSim = sim;
    this.anchorReal = Date.now();
  }

  private invoke(task: Task): void {
    try {
      task.run();
    } catch (err) {
      this.onError(err);
    }
  }

  private runDue(): void {
    if (this.running) return;
    this.running = true;
    try {
      const now = this.now();
      for (let task = this.peek(); task && task.due <= now; task = this.peek()) {
        this.pop();
        if (!task.cancelled) this.invoke(task);
      }
    } finally {
      this.running = false;
    }
    this.arm();
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const next = this.peek();
    if (this.stopped || !next || this.speed === 0) return;
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, (next.due - this.now()) / this.speed));
    this.timer = setTimeout(() => this.runDue(), Math.ceil(delay));
    this.timer.unref();
  }

  private peek(): Task | undefined {
    return this.heap[0];
  }

  private push(task: Task): void {
    const heap = this.heap;
    heap.push(task);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i], heap[parent])) break;
      [heap[i], heap[parent]] = [heap[parent], heap[i]];
      i = parent;
    }
  }

  private pop(): Task | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && before(heap[l], heap[m])) m = l;
        if (r < heap.length && before(heap[r], heap[m])) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m], heap[i]];
        i = m;
      }
    }
    return top;
  }
}

function before(a: Task, b: Task): boolean {
  return a.due < b.due || (a.due === b.due && a.seq < b.seq);
}
