import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import { ControlRoutes } from '../control/routes';
import { Ec2Api } from '../ec2/api';
import { EventsApi } from '../events/api';
import { PricingApi } from '../pricing/api';
import { Ec2Fault } from '../faults';
import { Listener } from './listener';
import { regionFromAuthorization } from './region';

const MAX_BODY = 16 * 1024 * 1024;

export interface SandboxApis {
  ec2: Ec2Api;
  events: EventsApi;
  pricing: PricingApi;
  control: ControlRoutes;
  defaultRegion: string;
}

type Kind = 'control' | 'events' | 'pricing' | 'ec2' | 'unknown';

/**
 * The sandbox's HTTP side: the main port answers EC2 (form-encoded query), EventBridge (`X-Amz-Target:
 * AWSEvents.*`), the Price List Query API (`AWSPriceListService.*`) and the `/_sandbox/` control API; a second port answers EC2 only, so that an EC2 outage can refuse
 * its connections while the control API stays reachable.
 */
export class SandboxHttp {
  private readonly main: Listener;
  private readonly ec2Only: Listener;
  /** EC2 requests held unanswered by a `hang` outage. */
  private readonly hung = new Set<ServerResponse>();
  private fault: Ec2Fault = { outage: 'none' };

  private constructor(
    host: string,
    private readonly apis: SandboxApis,
    private readonly log: (entry: Record<string, unknown>) => void,
  ) {
    const onError = (err: unknown) => log({ msg: 'sandbox listener failed', err });
    this.main = new Listener(this.server(false), host, onError);
    this.ec2Only = new Listener(this.server(true), host, onError);
  }

  static async start(
    host: string,
    ports: { port: number; ec2Port: number },
    apis: SandboxApis,
    log: (entry: Record<string, unknown>) => void,
  ): Promise<SandboxHttp> {
    const http = new SandboxHttp(host, apis, log);
    await http.main.start(ports.port);
    try {
      await http.ec2Only.start(ports.ec2Port);
    } catch (err) {
      await http.main.close();
      throw err;
    }
    return http;
  }

  get port(): number {
    return this.main.port;
  }

  get ec2Port(): number {
    return this.ec2Only.port;
  }

  get heldRequests(): number {
    return this.hung.size;
  }

  apply(fault: Ec2Fault): void {
    const previous = this.fault.outage;
    this.fault = { ...fault };
    if (previous === fault.outage) return;
    if (previous === 'hang') {
      for (const res of this.hung) res.destroy();
      this.hung.clear();
    }
    if (fault.outage === 'refuse') this.ec2Only.refuse();
    else this.ec2Only.accept();
    // Keep-alive connections to the EC2 port would otherwise carry on as before the outage began.
    if (fault.outage !== 'none') this.ec2Only.resetAll();
  }

  settled(): Promise<void> {
    return this.ec2Only.settled();
  }

  async close(): Promise<void> {
    for (const res of this.hung) res.destroy();
    this.hung.clear();
    await Promise.all([this.main.close(), this.ec2Only.close()]);
  }

  private server(ec2Only: boolean) {
    const server = createServer((req, res) => {
      this.handle(req, res, ec2Only).catch((err: unknown) => {
        this.log({ msg: 'sandbox request failed', method: req.method, url: req.url, err });
        if (!res.headersSent) send(res, 500, 'application/json', JSON.stringify({ error: 'internal error' }));
        else res.destroy();
      });
    });
    server.keepAliveTimeout = 5000;
    return server;
  }

  private async handle(req: IncomingMessage, res: ServerResponse, ec2Only: boolean): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const kind = kindOf(req, url);
    if (kind === 'ec2' && this.fault.outage !== 'none') {
      if (this.fault.outage === 'hang') {
        this.hung.add(res);
        res.once('close', () => this.hung.delete(res));
      } else {
        // On the main port a refused EC2 port shows as a reset: the control API there must stay up.
        req.socket.destroy();
      }
      return;
    }
    if (ec2Only && kind !== 'ec2') {
      send(res, 404, 'application/json', JSON.stringify({ error: `this port answers EC2 only: ${url.pathname}` }));
      return;
    }
    const body = await readBody(req);
    const region = regionFromAuthorization(req.headers.authorization) ?? this.apis.defaultRegion;
    switch (kind) {
      case 'control': {
        const reply = await this.apis.control.handle(req.method ?? 'GET', url.pathname, url.searchParams, body);
        send(res, reply.status, 'application/json', JSON.stringify(reply.body));
        return;
      }
      case 'events': {
        const reply = this.apis.events.handle(String(req.headers['x-amz-target']), body, region);
        const headers: Record<string, string> = reply.code ? { 'x-amzn-errortype': reply.code } : {};
        send(res, reply.status, 'application/x-amz-json-1.1', JSON.stringify(reply.body), headers);
        return;
      }
      case 'pricing': {
        const reply = this.apis.pricing.handle(String(req.headers['x-amz-target']), body, region);
        const headers: Record<string, string> = reply.code ? { 'x-amzn-errortype': reply.code } : {};
        send(res, reply.status, 'application/x-amz-json-1.1', JSON.stringify(reply.body), headers);
        return;
      }
      case 'ec2': {
        // Unsigned requests (curl while debugging) go to the first region.
        const reply = this.apis.ec2.handle(body, region);
        send(res, reply.status, 'text/xml;charset=UTF-8', reply.body, { 'x-amzn-requestid': reply.requestId });
        return;
      }
      case 'unknown':
        send(res, 404, 'application/json', JSON.stringify({ error: `nothing here: ${req.method} ${url.pathname}` }));
        return;
    }
  }
}

function kindOf(req: IncomingMessage, url: URL): Kind {
  if (url.pathname.startsWith('/_sandbox/')) return 'control';
  if (req.method !== 'POST') return 'unknown';
  const target = req.headers['x-amz-target'];
  if (typeof target === 'string') {
    if (target.startsWith('AWSEvents.')) return 'events';
    return target.startsWith('AWSPriceListService.') ? 'pricing' : 'unknown';
  }
  return (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded') ? 'ec2' : 'unknown';
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
