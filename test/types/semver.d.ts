declare module 'semver' {
  /** Whether `version` is within `range` (npm's engines syntax). */
  export function satisfies(version: string, range: string): boolean;
  /** The lowest version within `range`, or null. */
  export function minVersion(range: string): { version: string } | null;
}
