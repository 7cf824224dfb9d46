import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { ControlRoutes } from '../control/routes';
import { Ec2Api } from '../ec2/api';
import { EventsApi } from '../events/api';
import { regionFromAuthorization } from './region';

const MAX_BODY = 16 * 1024 * 1024;

export interface SandboxHttp {
  server: Server;
  port: number;
  close(): Promise<void>;
}

/** One server for EC2 (form-encoded query), EventBridge (`X-Amz-Target: AWSEvents.*`) and `/_sandbox/` control. */
export async function startHttp(
  host: string,
  port: number,
  apis: { ec2: Ec2Api; events: EventsApi; control: ControlRoutes; defaultRegion: string },
  log: (entry: Record<string, unknown>) => void,
): Promise<SandboxHttp> {
  const server = createServer((req, res) => {
    handle(req, res, apis).catch((err: unknown) => {
      log({ msg: 'sandbox request failed', method: req.method, url: req.url, err: String(err) });
      if (!res.headersSent) send(res, 500, 'application/json', JSON.stringify({ error: 'internal error' }));
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  apis: { ec2: Ec2Api; events: EventsApi; control: ControlRoutes; defaultRegion: string },
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://sandbox');
  const body = await readBody(req);
  if (url.pathname.startsWith('/_sandbox/')) {
    const reply = await apis.control.handle(req.method ?? 'GET', url.pathname, url.searchParams, body);
    send(res, reply.status, 'application/json', JSON.stringify(reply.body));
    return;
  }
  // Unsigned requests (curl while debugging) go to the first region.
  const region = regionFromAuthorization(req.headers.authorization) ?? apis.defaultRegion;
  const target = req.headers['x-amz-target'];
  if (req.method === 'POST' && typeof target === 'string' && target.startsWith('AWSEvents.')) {
    const reply = apis.events.handle(target, body, region);
    const headers: Record<string, string> = reply.code ? { 'x-amzn-errortype': reply.code } : {};
    send(res, reply.status, 'application/x-amz-json-1.1', JSON.stringify(reply.body), headers);
    return;
  }
  const contentType = req.headers['content-type'] ?? '';
  if (req.method === 'POST' && contentType.startsWith('application/x-www-form-urlencoded')) {
    const reply = apis.ec2.handle(body, region);
    send(res, reply.status, 'text/xml;charset=UTF-8', reply.body, { 'x-amzn-requestid': reply.requestId });
    return;
  }
  send(res, 404, 'application/json', JSON.stringify({ error: `nothing here: ${req.method} ${url.pathname}` }));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}
