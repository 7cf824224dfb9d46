import { createServer as createHttpServer, Server as HttpServer } from 'node:http';
import { connect, createServer, Socket } from 'node:net';
import { SqsFault } from '../faults';
import { Listener } from '../http/listener';

const ERRORS: Record<number, { code: string; message: string }> = {
  500: { code: 'InternalError', message: 'We encountered an internal error. Please try again.' },
  503: { code: 'ServiceUnavailable', message: 'The request has failed due to a temporary failure of the server.' },
};

/**
 * The public SQS port: a TCP pass-through to the emulator, which listens on a port of its own, so that an outage
 * can refuse connections or answer 5xx while the queues (and their messages) live on untouched.
 */
export class SqsProxy {
  private readonly listener: Listener;
  /** Answers every request with the configured 5xx while the outage is `error`. */
  private readonly failing: HttpServer;
  private fault: SqsFault = { outage: 'none', errorStatus: 500 };

  constructor(
    private readonly host: string,
    private readonly upstreamPort: number,
    onError: (err: unknown) => void,
  ) {
    this.failing = createHttpServer((req, res) => {
      req.resume();
      const { code, message } = ERRORS[this.fault.errorStatus] ?? ERRORS[500];
      const body = JSON.stringify({ __type: `com.amazonaws.sqs#${code}`, message });
      res.writeHead(this.fault.errorStatus, {
        'content-type': 'application/x-amz-json-1.0',
        'content-length': Buffer.byteLength(body),
        'x-amzn-query-error': `${code};Receiver`,
        // No keep-alive: a pooled connection to this server would outlive the outage.
        connection: 'close',
      });
      res.end(body);
    });
    this.listener = new Listener(
      createServer((socket) => this.connected(socket)),
      host,
      onError,
    );
  }

  get port(): number {
    return this.listener.port;
  }

  start(port: number): Promise<number> {
    return this.listener.start(port);
  }

  apply(fault: SqsFault): void {
    const previous = this.fault.outage;
    this.fault = { ...fault };
    if (previous === fault.outage) return;
    // Connections made under the previous mode would keep behaving that way: cut them so clients reconnect.
    this.listener.resetAll();
    if (fault.outage === 'refuse') this.listener.refuse();
    else this.listener.accept();
  }

  settled(): Promise<void> {
    return this.listener.settled();
  }

  async close(): Promise<void> {
    await this.listener.close();
    this.failing.close();
  }

  private connected(client: Socket): void {
    if (this.fault.outage === 'error') {
      this.failing.emit('connection', client);
      return;
    }
    const upstream = connect(this.upstreamPort, this.host);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const cut = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', cut).on('close', cut);
    upstream.on('error', cut).on('close', cut);
    client.pipe(upstream).pipe(client);
  }
}
