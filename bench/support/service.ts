import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createHash } from 'node:crypto';
import { AddressInfo, createServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import { AppModule } from '../../src/app.module';
import { AppConfig } from '../../src/config/app-config';
import { configureApp, HTTP_APP_OPTIONS } from '../../src/configure-app';
import { compiledService } from '../../test/support/compiled-service';
import { ServiceProcess, spawnService } from '../../test/support/service-process';
import { sleep } from './measure';

/** The bearer token of the benchmarks' API client, which holds every scope. */
export const BENCH_TOKEN = 'bench-token-0123456789';

export const BENCH_API_CLIENTS = JSON.stringify([
  { clientId: 'bench', tokenSha256: createHash('sha256').update(BENCH_TOKEN).digest('hex'), scopes: ['ec2-manager:*'] },
]);

export const authorized = { Authorization: `Bearer ${BENCH_TOKEN}` };

/**
 * A benchmark's settings: one region, manager `bench`, the bench API client, no log lines but fatal
 * ones (a throttling run's expected 503s would drown its figures), no periodic job and no event
 * consumer unless `settings` turn them on.
 */
export function benchConfig(databaseUrl: string, settings: Record<string, string> = {}): AppConfig {
  return AppConfig.fromEnv({
    DATABASE_URL: databaseUrl,
    REGIONS: 'us-east-1',
    MANAGER_ID: 'bench',
    LOG_LEVEL: 'fatal',
    RUN_MIGRATIONS: 'false',
    EVENT_LISTENER_ENABLED: 'false',
    SPOT_POLL_ENABLED: 'false',
    HOUSEKEEPING_ENABLED: 'false',
    PRICING_ENABLED: 'false',
    TERMINATION_REASONS_ENABLED: 'false',
    API_CLIENTS: BENCH_API_CLIENTS,
    ...settings,
  });
}

export interface HttpService {
  app: NestExpressApplication;
  /** `http://127.0.0.1:<port>` */
  url: string;
  close(): Promise<void>;
}

/** The service in this process as `main.ts` wires it (AppModule, configureApp), listening on a free port. */
export async function startHttpService(config: AppConfig): Promise<HttpService> {
  const app = configureApp(
    await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), { ...HTTP_APP_OPTIONS, logger: false }),
  );
  await app.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  return { app, url, close: () => app.close() };
}

/** A TCP port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface SpawnedService {
  child: ServiceProcess;
  url: string;
  /** From spawning the process until `/health/ready` first answered 200. */
  readyMs: number;
  stop(): Promise<void>;
}

/**
 * The service in its own process as production runs it: `node <compiled src/main.js>` (what `npm run
 * build` + `node dist/main.js` run, transpiled file by file), configured only by `env`. Its log lines
 * are read and dropped (production hands them to a collector). Resolves once `/health/ready` answers 200.
 * `nodeArgs` go before the script (e.g. `--cpu-prof` to see where a benchmark's time goes).
 */
export async function spawnCompiledService(
  env: Record<string, string>,
  { nodeArgs = [], timeoutMs = 120_000 }: { nodeArgs?: string[]; timeoutMs?: number } = {},
): Promise<SpawnedService> {
  const main = compiledService();
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const start = performance.now();
  const child = spawnService([...nodeArgs, main], { ...env, PORT: String(port) });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  let gone = false;
  void exited.then(() => (gone = true));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (!gone) child.kill('SIGTERM');
    await exited;
  };
  for (;;) {
    if (gone) throw new Error(`the service exited before it was ready:\n${output}`);
    if (performance.now() - start > timeoutMs) {
      await stop();
      throw new Error(`the service was not ready within ${timeoutMs} ms:\n${output}`);
    }
    try {
      const res = await fetch(`${url}/health/ready`);
      await res.arrayBuffer();
      if (res.status === 200) return { child, url, readyMs: performance.now() - start, stop };
    } catch {
      // not listening yet
    }
    await sleep(10);
  }
}
