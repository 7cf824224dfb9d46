/** Thrown for a pattern EventBridge would refuse (`InvalidEventPatternException`). */
export class InvalidPatternError extends Error {}

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type Matcher = (value: Json | undefined, present: boolean) => boolean;

export interface EventPattern {
  matches(event: unknown): boolean;
}

/**
 * EventBridge event patterns: nested objects whose leaves are arrays of allowed values. Supports literal values,
 * `prefix`, `suffix`, `anything-but` (values, prefix, suffix), `equals-ignore-case`, `exists`, `numeric`,
 * `wildcard` and `$or`.
 */
export function compilePattern(text: string): EventPattern {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new InvalidPatternError('Event pattern is not valid JSON.');
  }
  if (!isObject(parsed) || Object.keys(parsed).length === 0) {
    throw new InvalidPatternError('Event pattern must be a non-empty JSON object.');
  }
  const match = compileObject(parsed, '');
  return { matches: (event) => match(event as Json) };
}

function isObject(v: unknown): v is { [key: string]: Json } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function compileObject(pattern: { [key: string]: Json }, path: string): (event: Json | undefined) => boolean {
  const parts: ((event: Json | undefined) => boolean)[] = [];
  for (const [key, sub] of Object.entries(pattern)) {
    const where = path ? `${path}.${key}` : key;
    if (key === '$or') {
      if (!Array.isArray(sub) || sub.length < 2 || !sub.every(isObject)) {
        throw new InvalidPatternError(`$or at ${path || 'top level'} must list at least two patterns.`);
      }
      const alternatives = sub.filter(isObject).map((alt) => compileObject(alt, path));
      parts.push((event) => alternatives.some((alt) => alt(event)));
    } else if (Array.isArray(sub)) {
      const leaf = compileLeaf(sub, where);
      parts.push((event) => {
        const present = isObject(event) && Object.hasOwn(event, key);
        return leaf(present ? event[key] : undefined, present);
      });
    } else if (isObject(sub)) {
      const nested = compileObject(sub, where);
      parts.push((event) => {
        const value = isObject(event) ? event[key] : undefined;
        if (Array.isArray(value)) return value.some((v) => nested(v));
        return nested(value);
      });
    } else {
      throw new InvalidPatternError(`Match value for ${where} must be an array or an object.`);
    }
  }
  return (event) => parts.every((p) => p(event));
}

function compileLeaf(values: Json[], where: string): Matcher {
  if (values.length === 0) throw new InvalidPatternError(`Empty arrays are not allowed (${where}).`);
  const matchers = values.map((v) => compileValue(v, where));
  return (value, present) => {
    if (Array.isArray(value)) return value.some((item) => matchers.some((m) => m(item, true)));
    return matchers.some((m) => m(value, present));
  };
}

function compileValue(spec: Json, where: string): Matcher {
  if (!isObject(spec)) {
    if (Array.isArray(spec)) throw new InvalidPatternError(`Nested arrays are not allowed (${where}).`);
    return (value, present) => present && value === spec;
  }
  const keys = Object.keys(spec);
  if (keys.length !== 1) throw new InvalidPatternError(`Only one operator per match object (${where}).`);
  const op = keys[0];
  const arg = spec[op];
  switch (op) {
    case 'prefix':
      if (isObject(arg) && typeof arg['equals-ignore-case'] === 'string') {
        const p = arg['equals-ignore-case'].toLowerCase();
        return (value) => typeof value === 'string' && value.toLowerCase().startsWith(p);
      }
      return stringOp(arg, where, op, (value, p) => value.startsWith(p));
    case 'suffix':
      return stringOp(arg, where, op, (value, s) => value.endsWith(s));
    case 'equals-ignore-case':
      return stringOp(arg, where, op, (value, s) => value.toLowerCase() === s.toLowerCase());
    case 'wildcard': {
      if (typeof arg !== 'string') throw new InvalidPatternError(`wildcard needs a string (${where}).`);
      const re = new RegExp(`^${arg.split('*').map(escape).join('.*')}$`, 's');
      return (value) => typeof value === 'string' && re.test(value);
    }
    case 'exists':
      if (typeof arg !== 'boolean') throw new InvalidPatternError(`exists needs true or false (${where}).`);
      return (_value, present) => present === arg;
    case 'anything-but':
      return anythingBut(arg, where);
    case 'numeric':
      return numeric(arg, where);
    default:
      throw new InvalidPatternError(`Unrecognized match type ${op} (${where}).`);
  }
}

function stringOp(arg: Json, where: string, op: string, test: (value: string, arg: string) => boolean): Matcher {
  if (typeof arg !== 'string') throw new InvalidPatternError(`${op} needs a string (${where}).`);
  return (value) => typeof value === 'string' && test(value, arg);
}

function anythingBut(arg: Json, where: string): Matcher {
  if (isObject(arg)) {
    const inner = compileValue(arg, where);
    return (value, present) => present && !inner(value, present);
  }
  const excluded = Array.isArray(arg) ? arg : [arg];
  return (value, present) => present && !excluded.includes(value as Json);
}

function numeric(arg: Json, where: string): Matcher {
  if (!Array.isArray(arg) || arg.length === 0 || arg.length % 2 !== 0) {
    throw new InvalidPatternError(`numeric needs operator/value pairs (${where}).`);
  }
  const checks: ((n: number) => boolean)[] = [];
  for (let i = 0; i < arg.length; i += 2) {
    const [op, bound] = [arg[i], arg[i + 1]];
    if (typeof op !== 'string') throw new InvalidPatternError(`numeric operators must be strings (${where}).`);
    if (typeof bound !== 'number') throw new InvalidPatternError(`numeric bounds must be numbers (${where}).`);
    const check = { '=': (n: number) => n === bound, '<': (n: number) => n < bound, '<=': (n: number) => n <= bound, '>': (n: number) => n > bound, '>=': (n: number) => n >= bound }[op]; // prettier-ignore
    if (!check) throw new InvalidPatternError(`Unknown numeric operator ${op} (${where}).`);
    checks.push(check);
  }
  return (value) => typeof value === 'number' && checks.every((c) => c(value));
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
