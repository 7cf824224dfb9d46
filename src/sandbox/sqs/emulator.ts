import { Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { requireDevDependency } from '../../common/esm';

/** The part of fauxqs (a Fastify app) the sandbox uses; declared here because fauxqs' own types pull in Fastify's. */
interface FauxqsApp {
  listen(options: { host: string; port: number }): Promise<string>;
  readonly server: Server;
  close(): Promise<void>;
}

interface FauxqsModule {
  buildApp(options: { logger: boolean; host: string }): FauxqsApp;
}

export interface SqsEmulator {
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

/**
 * Runs fauxqs on loopback. `buildApp` rather than `startFauxqs`, because the latter always binds 0.0.0.0.
 * `host: 'localhost'` makes queue URLs region-qualified (`http://sqs.<region>.localhost:<port>/<account>/<name>`):
 * without it a queue of the same name in two regions would get the same URL and overwrite each other. Clients
 * must therefore set an explicit `endpoint`, so the SDK sends to it instead of the queue URL's host.
 */
export async function startSqsEmulator(host: string, port: number): Promise<SqsEmulator> {
  const fauxqs = requireDevDependency<FauxqsModule>(
    'fauxqs',
    'dist/app.js',
    "the sandbox cloud's SQS emulator",
    'set AWS_MODE=aws (or give EC2_ENDPOINT, SQS_ENDPOINT and EVENTS_ENDPOINT of a running sandbox)',
  );
  const app = fauxqs.buildApp({ logger: false, host: 'localhost' });
  await app.listen({ host, port });
  const actual = (app.server.address() as AddressInfo).port;
  return {
    endpoint: `http://${host}:${actual}`,
    port: actual,
    stop: () => app.close(),
  };
}
