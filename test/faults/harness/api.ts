import { FaultWorld } from './world';

/** What one API call got: a status, or no answer at all (`timeout`: it hung; `network`: the replica was gone). */
export interface CallOutcome {
  status: number | 'timeout' | 'network' | 'no-replica';
  body?: unknown;
  replica?: string;
  /** Wall-clock start and end, ms since the epoch. */
  at: number;
  end: number;
}

export interface CallRecord extends CallOutcome {
  op: string;
  method: string;
  path: string;
  request?: unknown;
}

/**
 * Calls the API of whichever replica is up (round robin), as a provisioner behind a load balancer
 * would, and keeps every call and its answer: the ledger the "no false answer" invariants read.
 */
export class ApiClient {
  readonly ledger: CallRecord[] = [];
  private turn = 0;

  constructor(
    private readonly world: FaultWorld,
    /** An answer slower than this counts as a hang (SPEC §9: 503 within seconds, never a hang). */
    private readonly hangMs: number,
  ) {}

  async call(op: string, method: string, path: string, request?: unknown): Promise<CallRecord> {
    const live = this.world.liveReplicas();
    const at = Date.now();
    if (live.length === 0) return this.keep({ op, method, path, request, status: 'no-replica', at, end: at });
    const replica = live[this.turn++ % live.length];
    const record: CallRecord = { op, method, path, request, status: 'network', replica: replica.name, at, end: at };
    try {
      const res = await fetch(`${replica.baseUrl}${path}`, {
        method,
        headers: { Authorization: `Bearer ${this.world.token}`, 'Content-Type': 'application/json' },
        body: request === undefined ? undefined : JSON.stringify(request),
        signal: AbortSignal.timeout(this.hangMs),
      });
      const text = await res.text();
      record.status = res.status;
      record.body = text ? safeJson(text) : undefined;
    } catch (err) {
      const name = (err as Error).name;
      // A replica killed under the call, or one that stopped listening: no answer, not a false one.
      record.status = name === 'TimeoutError' && replica.status === 'up' ? 'timeout' : 'network';
      record.body = String(err);
    }
    record.end = Date.now();
    return this.keep(record);
  }

  private keep(record: CallRecord): CallRecord {
    this.ledger.push(record);
    return record;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export const isSuccess = (r: CallOutcome): boolean => typeof r.status === 'number' && r.status >= 200 && r.status < 300;
/** Worth retrying with the same ClientToken: no answer, or one that says "try again". */
export const isRetryable = (r: CallOutcome): boolean =>
  typeof r.status !== 'number' || r.status === 503 || r.status === 500 || r.status === 502 || r.status === 429;
