import { Ec2Error } from './errors';
import { Query } from './query';

export interface Filter {
  name: string;
  values: string[];
}

/** Reads a field (or several, for multi-valued fields such as volume attachments) a filter compares against. */
export type Field<T> = (item: T) => string | number | boolean | undefined | readonly (string | undefined)[];

export interface FilterSpec<T> {
  fields: Record<string, Field<T>>;
  /** Enables `tag:<key>`, `tag-key` and `tag-value`. */
  tags?: (item: T) => ReadonlyMap<string, string>;
}

export type Predicate<T> = (item: T) => boolean;

export function parseFilters(q: Query): Filter[] {
  return q.list('Filter').map((f) => ({ name: f.required('Name'), values: f.strList('Value') }));
}

/** Matches one EC2 filter value: `*` and `?` are wildcards, `\` escapes them; comparison is exact otherwise. */
export type ValueMatcher = (value: string) => boolean;

export function valueMatcher(values: readonly string[]): ValueMatcher {
  const exact = new Set<string>();
  const patterns: RegExp[] = [];
  for (const v of values) {
    if (/[*?]/.test(v)) patterns.push(wildcardToRegExp(v));
    else exact.add(v.replace(/\\(.)/g, '$1'));
  }
  if (patterns.length === 0) return (value) => exact.has(value);
  return (value) => exact.has(value) || patterns.some((p) => p.test(value));
}

function wildcardToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\' && i + 1 < pattern.length) re += escapeRegExp(pattern[++i]);
    else if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else re += escapeRegExp(c);
  }
  return new RegExp(`^${re}$`, 's');
}

function escapeRegExp(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** Compiles filters once per request: values within a filter are ORed, filters are ANDed. */
export function compileFilters<T>(filters: readonly Filter[], spec: FilterSpec<T>): Predicate<T> {
  const predicates = filters.map((f) => compileOne(f, spec));
  if (predicates.length === 0) return () => true;
  return (item) => predicates.every((p) => p(item));
}

function compileOne<T>(filter: Filter, spec: FilterSpec<T>): Predicate<T> {
  const match = valueMatcher(filter.values);
  const tags = spec.tags;
  if (tags && filter.name.startsWith('tag:')) {
    const key = filter.name.slice(4);
    return (item) => {
      const value = tags(item).get(key);
      return value !== undefined && match(value);
    };
  }
  if (tags && filter.name === 'tag-key') return (item) => [...tags(item).keys()].some(match);
  if (tags && filter.name === 'tag-value') return (item) => [...tags(item).values()].some(match);
  const field = Object.hasOwn(spec.fields, filter.name) ? spec.fields[filter.name] : undefined;
  if (!field) throw new Ec2Error('InvalidParameterValue', `The filter '${filter.name}' is invalid`);
  return (item) => {
    const value = field(item);
    if (value === undefined) return false;
    if (isList(value)) return value.some((v) => v !== undefined && match(v));
    return match(String(value));
  };
}

/** The values of a filter the caller can answer from an index instead of a scan, if it is the only one of its name. */
export function exactValues(filters: readonly Filter[], name: string): string[] | undefined {
  const matching = filters.filter((f) => f.name === name);
  if (matching.length !== 1) return undefined;
  const values = matching[0].values;
  return values.some((v) => /[*?\\]/.test(v)) ? undefined : values;
}

function isList(value: unknown): value is readonly (string | undefined)[] {
  return Array.isArray(value);
}
