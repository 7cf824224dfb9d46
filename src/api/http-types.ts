import type { IncomingMessage, ServerResponse } from 'node:http';

/** The parts of Express's request and response we use (without depending on @types/express). */
export interface HttpRequest extends IncomingMessage {
  params: Record<string, string | undefined>;
  path: string;
}

export interface HttpResponse extends ServerResponse {
  status(code: number): HttpResponse;
  json(body: unknown): HttpResponse;
}
