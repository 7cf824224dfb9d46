import autocannon from 'autocannon';

/** What an HTTP load run measured: requests answered per second and their latency percentiles. */
export interface LoadResult {
  path: string;
  /** 2xx answers per second over the run. */
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Non-2xx answers plus connection errors and timeouts: a run with any is not a valid figure. */
  failures: number;
}

export interface LoadOptions {
  connections: number;
  durationSeconds: number;
  headers?: Record<string, string>;
  /** Seconds a request may take before it counts as a timeout (autocannon's default is 10). */
  timeoutSeconds?: number;
}

/**
 * GETs `base + path` from `connections` connections for `durationSeconds`, each connection asking again
 * as soon as it is answered (autocannon: a closed-loop load generator with HDR histograms).
 */
export async function load(base: string, path: string, options: LoadOptions): Promise<LoadResult> {
  const result = await autocannon({
    url: `${base}${path}`,
    connections: options.connections,
    duration: options.durationSeconds,
    headers: options.headers,
    timeout: options.timeoutSeconds ?? 10,
  });
  const ok = result['2xx'];
  return {
    path,
    rps: ok / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    failures: result.non2xx + result.errors + result.timeouts,
  };
}

/** Several paths loaded at once, each from its own `connections` connections. */
export function loadTogether(base: string, paths: string[], options: LoadOptions): Promise<LoadResult[]> {
  return Promise.all(paths.map((p) => load(base, p, options)));
}
