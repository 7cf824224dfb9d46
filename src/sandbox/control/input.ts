/** A control API request the sandbox refuses; `status` is the HTTP status it answers with. */
export class ControlError extends Error {
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = 'ControlError';
  }
}

export type JsonObject = Record<string, unknown>;

/** Typed reads from an untrusted JSON body, each failing with a 400 that names the field. */
export class Input {
  constructor(private readonly body: JsonObject) {}

  static of(value: unknown): Input {
    if (value === undefined || value === null) return new Input({});
    if (typeof value !== 'object' || Array.isArray(value)) throw new ControlError('body must be a JSON object');
    return new Input(value as JsonObject);
  }

  has(key: string): boolean {
    return this.body[key] !== undefined;
  }

  raw(key: string): unknown {
    return this.body[key];
  }

  str(key: string): string | undefined {
    const v = this.body[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw new ControlError(`${key} must be a string`);
    return v;
  }

  requiredStr(key: string): string {
    const v = this.str(key);
    if (v === undefined || v === '') throw new ControlError(`${key} is required`);
    return v;
  }

  num(key: string, min = Number.NEGATIVE_INFINITY, max = Number.POSITIVE_INFINITY): number | undefined {
    const v = this.body[key];
    if (v === undefined || v === null) return undefined;
    const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isFinite(n) || n < min || n > max) {
      throw new ControlError(`${key} must be a number between ${min} and ${max}`);
    }
    return n;
  }

  bool(key: string): boolean | undefined {
    const v = this.body[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') throw new ControlError(`${key} must be true or false`);
    return v;
  }

  /** ISO 8601 text or epoch milliseconds. */
  time(key: string): number | undefined {
    const v = this.body[key];
    if (v === undefined || v === null) return undefined;
    const ms = typeof v === 'number' ? v : typeof v === 'string' ? Date.parse(v) : NaN;
    if (!Number.isFinite(ms)) throw new ControlError(`${key} must be an ISO 8601 time or epoch milliseconds`);
    return ms;
  }

  strings(key: string): Record<string, string> | undefined {
    const v = this.body[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'object' || Array.isArray(v) || Object.values(v).some((x) => typeof x !== 'string')) {
      throw new ControlError(`${key} must be an object of string values`);
    }
    return v as Record<string, string>;
  }

  oneOf<T extends string>(key: string, allowed: readonly T[]): T | undefined {
    const v = this.str(key);
    if (v === undefined) return undefined;
    if (!(allowed as readonly string[]).includes(v))
      throw new ControlError(`${key} must be one of ${allowed.join(', ')}`);
    return v as T;
  }

  child(key: string): Input | undefined {
    const v = this.body[key];
    return v === undefined || v === null ? undefined : Input.of(v);
  }
}
