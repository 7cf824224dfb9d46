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

/**
 * Gives a request its id (`X-Request-Id` when the caller sent a usable one, else a new UUID) unless it has
 * one already, and echoes it in the response. Used by the request logger and, where no logger runs first,
 * by `requestIdMiddleware`.
 */
export function assignRequestId(req: IncomingMessage, res: ServerResponse): string {
  const r = req as WithId;
  if (r.id === undefined) {
    const given = req.headers['x-request-id'];
    r.id = typeof given === 'string' && CALLER_ID.test(given) ? given : randomUUID();
  }
  const id = requestIdOf(req);
  res.setHeader('X-Request-Id', id);
  return id;
}

export function requestIdMiddleware(req: IncomingMessage, res: ServerResponse, next: () => void): void {
  assignRequestId(req, res);
  next();
}
