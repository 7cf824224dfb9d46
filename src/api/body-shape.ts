import type { IncomingMessage, ServerResponse } from 'node:http';
import { InputError, Reason } from '../common/errors';

/** Deeper than any body of this API needs (a launch body is five levels deep), shallow enough for every walker. */
export const MAX_BODY_DEPTH = 32;

/** Enough to name the problem; a body full of them needs no longer answer. */
const MAX_REASONS = 10;

/**
 * What makes a parsed body unfit for any handler, whatever its endpoint: a key that names a member of
 * `Object.prototype` (`constructor`, `__proto__`, `toString`, ...) and nesting deeper than MAX_BODY_DEPTH.
 *
 * Such keys are never field names of this API, and the libraries between the parser and the handlers
 * treat them as the inherited members they shadow: class-transformer drops them silently (so the
 * allowed-keys rule never sees them), class-validator finds their whitelist entry on the prototype, and
 * `__proto__` replaces an object's prototype when copied. Deep nesting overflows the stack of every
 * recursive walker (class-transformer, class-validator, loggers). Refusing both here, before anything
 * else looks at the body, is what keeps each of those from having to be right about it.
 */
export function bodyShapeReasons(body: unknown): Reason[] {
  const reasons: Reason[] = [];
  // Breadth first with an explicit queue: the check itself must not recurse, and reasons come in document order.
  const queue: { value: unknown; path: string; depth: number }[] = [{ value: body, path: '', depth: 0 }];
  for (let i = 0; i < queue.length && reasons.length < MAX_REASONS; i++) {
    const { value, path, depth } = queue[i];
    if (typeof value !== 'object' || value === null) continue;
    if (depth >= MAX_BODY_DEPTH) {
      reasons.push({ rule: 'schema', path, message: `nested deeper than ${MAX_BODY_DEPTH} levels` });
      break;
    }
    if (Array.isArray(value)) {
      value.forEach((v: unknown, n) => queue.push({ value: v, path: `${path}[${n}]`, depth: depth + 1 }));
      continue;
    }
    for (const key of Object.keys(value)) {
      const at = path ? `${path}.${key}` : key;
      if (Object.hasOwn(Object.prototype, key)) {
        reasons.push({ rule: 'schema', path: at, message: `${key} is not an accepted field name` });
      } else {
        queue.push({ value: (value as Record<string, unknown>)[key], path: at, depth: depth + 1 });
      }
    }
  }
  return reasons.map((r) => (r.path ? r : { rule: r.rule, message: r.message }));
}

/** Runs right after the body parsers: a body `bodyShapeReasons` refuses never reaches a guard, pipe or handler. */
export function refuseUnsafeBodies(
  req: IncomingMessage & { body?: unknown },
  _res: ServerResponse,
  next: (err?: unknown) => void,
): void {
  const reasons = bodyShapeReasons(req.body);
  next(reasons.length > 0 ? InputError.of(reasons) : undefined);
}
