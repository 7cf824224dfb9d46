/** Every scope of this service starts with this (SPEC §8). */
export const SCOPE_PREFIX = 'ec2-manager:';

/**
 * True when a granted scope covers the required one: equal, or the granted scope ends in `*` and the
 * required one starts with what comes before it (`ec2-manager:manage-resources:*`).
 */
export function scopeSatisfies(granted: string, required: string): boolean {
  if (granted.endsWith('*')) return required.startsWith(granted.slice(0, -1));
  return granted === required;
}

export function hasScope(granted: readonly string[], required: string): boolean {
  return granted.some((g) => scopeSatisfies(g, required));
}

/** Fills `<name>` placeholders of a scope template from route parameters. */
export function expandScope(template: string, params: Record<string, string | undefined>): string {
  return SCOPE_PREFIX + template.replace(/<(\w+)>/g, (_, name: string) => params[name] ?? '');
}
