import { performance } from 'node:perf_hooks';

/** The p-th percentile (0–100) of values sorted ascending: the smallest value with p% of them at or below it. */
export function percentile(sorted: readonly number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Percentiles of unsorted values. */
export function percentiles(values: readonly number[], ps: readonly number[]): number[] {
  const sorted = [...values].sort((a, b) => a - b);
  return ps.map((p) => percentile(sorted, p));
}

/** `n` things in `ms` milliseconds, per second. */
export function perSecond(n: number, ms: number): number {
  return ms > 0 ? (n / ms) * 1000 : NaN;
}

/** Runs `fn` and says how long it took, in milliseconds. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await fn();
  return { ms: performance.now() - start, value };
}

/** Resolves when `read()` reaches `target`, polling every `everyMs`. */
export async function until(read: () => Promise<number>, target: number, everyMs = 20): Promise<void> {
  while ((await read()) < target) await sleep(everyMs);
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Bytes in MiB. */
export const mib = (bytes: number): number => bytes / 2 ** 20;

/** Progress lines of a long benchmark, on stderr so that the results on stdout stay readable. */
export function progress(line: string): void {
  process.stderr.write(`  … ${line}\n`);
}
