import { Ec2Error, invalidCombination } from './errors';
import { Query } from './query';

/** Items kept in creation order and found again by sequence number, so a page resumes in O(log n). */
export interface Sequenced {
  readonly seq: number;
  removed: boolean;
}

/**
 * An append-only list sorted by `seq`, with removal by flag and compaction once half of it is dead: paging a
 * 100k-instance region costs O(log n + page) per call instead of a scan from the start.
 */
export class SeqList<T extends Sequenced> {
  private items: T[] = [];
  private dead = 0;

  get size(): number {
    return this.items.length - this.dead;
  }

  push(item: T): void {
    this.items.push(item);
  }

  /** Call after setting `item.removed`. */
  noteRemoved(): void {
    this.dead++;
    if (this.dead > 1024 && this.dead * 2 > this.items.length) {
      this.items = this.items.filter((i) => !i.removed);
      this.dead = 0;
    }
  }

  /** Live items with `seq > afterSeq`, in order. */
  *from(afterSeq: number): Generator<T> {
    const items = this.items;
    let lo = 0;
    let hi = items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (items[mid].seq <= afterSeq) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < items.length; i++) {
      if (!items[i].removed) yield items[i];
    }
  }
}

export interface Page<T> {
  items: T[];
  nextToken?: string;
}

/** Fills a page from an ordered source; the token records the last seq returned and which operation issued it. */
export function takePage<T extends Sequenced>(
  source: Iterable<T>,
  accept: (item: T) => boolean,
  limit: number,
  kind: string,
): Page<T> {
  const items: T[] = [];
  for (const item of source) {
    if (!accept(item)) continue;
    if (items.length === limit) return { items, nextToken: encodeToken(kind, items[items.length - 1].seq) };
    items.push(item);
  }
  return { items };
}

export function encodeToken(kind: string, position: number, extra?: number): string {
  return Buffer.from(JSON.stringify({ k: kind, p: position, x: extra })).toString('base64url');
}

export function decodeToken(token: string, kind: string): { position: number; extra?: number } {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
      k?: unknown;
      p?: unknown;
      x?: unknown;
    };
    if (parsed.k === kind && typeof parsed.p === 'number') {
      return { position: parsed.p, extra: typeof parsed.x === 'number' ? parsed.x : undefined };
    }
  } catch {
    // fall through: any undecodable token is EC2's InvalidParameterValue
  }
  throw new Ec2Error('InvalidParameterValue', `Invalid value '${token}' for nextToken`);
}

export interface PageRequest {
  limit: number;
  afterSeq: number;
  paged: boolean;
}

/** Reads MaxResults/NextToken; `ids` names the id list parameter that EC2 refuses to combine with MaxResults. */
export function pageRequest(
  q: Query,
  kind: string,
  bounds: { min: number; max: number },
  ids?: { param: string; xmlName: string },
): PageRequest {
  const max = q.int('MaxResults', bounds.min, bounds.max);
  const token = q.str('NextToken');
  if (ids && max !== undefined && q.has(ids.param)) {
    throw invalidCombination(`The parameter ${ids.xmlName} cannot be used with the parameter maxResults`);
  }
  return {
    limit: max ?? Number.MAX_SAFE_INTEGER,
    afterSeq: token ? decodeToken(token, kind).position : -1,
    paged: max !== undefined || token !== undefined,
  };
}
