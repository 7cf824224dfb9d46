/** An allowed-instance-type pattern (SPEC §11): instance type characters, `*` for any run of them, `?` for one. */
export const INSTANCE_TYPE_PATTERN_RULE = /^[a-z0-9.*?-]{1,64}$/;

/** The pattern as an anchored regular expression; every other character stands for itself. */
function toRegExp(pattern: string): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\-]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/** Whether `instanceType` matches any of `patterns`; no list at all allows every type. */
export function instanceTypeAllowed(instanceType: string, patterns: readonly string[] | null): boolean {
  if (patterns === null) return true;
  return patterns.some((p) => toRegExp(p).test(instanceType));
}
