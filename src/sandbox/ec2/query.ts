import { Ec2Error, invalidValue, missingParameter, unknownParameter } from './errors';

interface Node {
  value?: string;
  children?: Map<string, Node>;
}

/**
 * An EC2 query request (`Action=…&Filter.1.Name=…&Filter.1.Value.1=…`) as a tree of dotted names, with typed
 * getters that raise EC2's own errors for missing or malformed values.
 */
export class Query {
  private constructor(
    private readonly node: Node,
    private readonly path: string,
  ) {}

  static parse(body: string): Query {
    const root: Node = {};
    for (const [key, value] of new URLSearchParams(body)) {
      let node = root;
      for (const part of key.split('.')) {
        node.children ??= new Map();
        let next = node.children.get(part);
        if (!next) {
          next = {};
          node.children.set(part, next);
        }
        node = next;
      }
      node.value = value;
    }
    return new Query(root, '');
  }

  names(): string[] {
    return [...(this.node.children?.keys() ?? [])];
  }

  /** Rejects any top-level parameter the operation does not define, as EC2 does. */
  allowOnly(allowed: ReadonlySet<string>): void {
    for (const name of this.names()) {
      if (name !== 'Action' && name !== 'Version' && !allowed.has(name)) throw unknownParameter(name);
    }
  }

  has(name: string): boolean {
    return this.node.children?.has(name) ?? false;
  }

  child(name: string): Query | undefined {
    const node = this.node.children?.get(name);
    return node ? new Query(node, this.full(name)) : undefined;
  }

  str(name: string): string | undefined {
    return this.node.children?.get(name)?.value;
  }

  required(name: string): string {
    const value = this.str(name);
    if (value === undefined || value === '') throw missingParameter(this.full(name));
    return value;
  }

  int(name: string, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number | undefined {
    const raw = this.str(name);
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!/^-?\d+$/.test(raw) || n < min || n > max) {
      throw invalidValue(this.full(name), raw, `Expected an integer between ${min} and ${max}.`);
    }
    return n;
  }

  bool(name: string): boolean | undefined {
    const raw = this.str(name);
    if (raw === undefined) return undefined;
    if (raw !== 'true' && raw !== 'false') throw invalidValue(this.full(name), raw, 'Expected true or false.');
    return raw === 'true';
  }

  /** A non-negative decimal such as a spot price, kept as EC2 echoes it. */
  price(name: string): string | undefined {
    const raw = this.str(name);
    if (raw === undefined) return undefined;
    if (!/^\d+(\.\d+)?$/.test(raw)) throw invalidValue(this.full(name), raw, 'Expected a decimal price.');
    return raw;
  }

  /** A timestamp in ms since the epoch. */
  date(name: string): number | undefined {
    const raw = this.str(name);
    if (raw === undefined) return undefined;
    const ms = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) * 1000 : Date.parse(raw);
    if (Number.isNaN(ms)) throw invalidValue(this.full(name), raw, 'Expected an ISO 8601 timestamp.');
    return ms;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[]): T | undefined {
    const raw = this.str(name);
    if (raw === undefined) return undefined;
    if (!(allowed as readonly string[]).includes(raw)) {
      throw invalidValue(this.full(name), raw, `Expected one of: ${allowed.join(', ')}.`);
    }
    return raw as T;
  }

  /** Members of a flattened list `Name.1`, `Name.2`, … in index order. */
  list(name: string): Query[] {
    const node = this.node.children?.get(name);
    if (!node?.children) return [];
    const entries: [number, Node, string][] = [];
    for (const [key, child] of node.children) {
      const index = Number(key);
      if (!Number.isInteger(index) || index < 1) throw unknownParameter(`${this.full(name)}.${key}`);
      entries.push([index, child, key]);
    }
    entries.sort((a, b) => a[0] - b[0]);
    return entries.map(([, child, key]) => new Query(child, `${this.full(name)}.${key}`));
  }

  strList(name: string): string[] {
    return this.list(name).map((item) => {
      if (item.node.value === undefined) throw new Ec2Error('InvalidParameterValue', `${item.path} must be a value`);
      return item.node.value;
    });
  }

  private full(name: string): string {
    return this.path ? `${this.path}.${name}` : name;
  }
}
