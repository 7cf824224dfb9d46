import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** A caller's own id is kept when it is short and plain, so its logs and ours can be joined. */
const CALLER_ID = /^[A-Za-z0-9._:-]{1,128}$/;

type WithId = IncomingMessage & { id?: unknown };

/** The request's id: the one set earlier (by a logger, or by `requestIdMiddleware`), as a string. */
export function requestIdOf(req: IncomingMessage): string {
  const r = req as WithId;
  if (typeof r.id === 'string' || typeof r.id === 'number') return String(r.id);
  const id = randomUUID();
  r.id = id;
  return id;
}

/** Gives every request an id (`X-Request-Id` when the caller sent a usable one) and echoes it in the response. */
export function requestIdMiddleware(req: IncomingMessage, res: ServerResponse, next: () => void): void {
  const r = req as WithId;
  if (r.id === undefined) {
    const given = req.headers['x-request-id'];
    r.id = typeof given === 'string' && CALLER_ID.test(given) ? given : randomUUID();
  }
  res.setHeader('X-Request-Id', requestIdOf(req));
  next();
}
