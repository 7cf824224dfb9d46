import { Server, Socket } from 'node:net';
import { AddressInfo } from 'node:net';

/**
 * A server's listening port that an outage can close, so that clients get "connection refused", and open again
 * on the same port. Transitions run one after another; `settled()` resolves once the last one is done.
 */
export class Listener {
  private readonly sockets = new Set<Socket>();
  private actualPort = 0;
  private listening = false;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    readonly server: Server,
    private readonly host: string,
    private readonly onError: (err: unknown) => void,
  ) {
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  get port(): number {
    return this.actualPort;
  }

  get connections(): ReadonlySet<Socket> {
    return this.sockets;
  }

  /** Binds `port` (0: a free one); the port found is kept for every later reopening. */
  async start(port: number): Promise<number> {
    await this.bind(port);
    this.actualPort = (this.server.address() as AddressInfo).port;
    return this.actualPort;
  }

  /** Stops accepting (new connections are refused) and cuts the open ones. */
  refuse(): void {
    this.enqueue(async () => {
      if (!this.listening) return;
      this.listening = false;
      const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
      this.resetAll();
      await closed;
    });
  }

  /** Listens again on the same port. */
  accept(): void {
    this.enqueue(async () => {
      if (this.listening) return;
      await this.bind(this.actualPort);
    });
  }

  /** Resets every open connection (the client sees ECONNRESET or a hang-up). */
  resetAll(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  settled(): Promise<void> {
    return this.chain;
  }

  async close(): Promise<void> {
    await this.chain;
    if (!this.listening) return;
    this.listening = false;
    const closed = new Promise<void>((resolve, reject) => this.server.close((err) => (err ? reject(err) : resolve())));
    this.resetAll();
    await closed;
  }

  private enqueue(step: () => Promise<void>): void {
    this.chain = this.chain.then(step).catch((err: unknown) => this.onError(err));
  }

  private bind(port: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const fail = (err: Error) => reject(err);
      this.server.once('error', fail);
      this.server.listen(port, this.host, () => {
        this.server.off('error', fail);
        this.listening = true;
        resolve();
      });
    });
  }
}
