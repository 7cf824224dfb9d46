import './instrument';
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import { ApiClients, DEVELOPMENT_CLIENT_ID } from './api/auth/api-clients.service';
import { AppModule } from './app.module';
import { AppConfig, loadConfig } from './config/app-config';
import { InvalidConfigError } from './config/env';
import { configureApp, HTTP_APP_OPTIONS } from './configure-app';
import { resolveCloud } from './cloud';
import { resolveDatabase } from './database';
import { createBootLogger } from './logging/logging';

function readConfig(): AppConfig {
  try {
    return loadConfig();
  } catch (err) {
    if (!(err instanceof InvalidConfigError)) throw err;
    console.error(`ec2-manager: ${err.message}`);
    process.exit(1);
  }
}

/** How long a shutdown nobody waits for (the parent is gone) may take before the process just exits. */
const ORPHAN_SHUTDOWN_MS = 10_000;

async function main(): Promise<void> {
  // A parent that started us with an IPC channel (a test harness) owns our life: when the channel
  // closes (the parent exited, however it exited), we stop. Until the app is up, stopping is exiting
  // (an embedded Postgres already started stops on exit).
  let parentGone = (): void => process.exit(1);
  if (process.send) process.once('disconnect', () => parentGone());
  const config = readConfig();
  const boot = createBootLogger(config);
  const database = await resolveDatabase(config, (line) => boot.info({ context: 'Database' }, line));
  const cloud = await resolveCloud(database.config, (entry) => boot.info({ context: 'Sandbox', ...entry }));
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(cloud.config), {
    ...HTTP_APP_OPTIONS,
    bufferLogs: true,
  });
  const logger = app.get(Logger);
  app.useLogger(logger);
  configureApp(app);

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.log({ msg: 'shutting down', signal }, 'Main');
    app
      .close()
      .then(() => cloud.stop())
      .then(() => database.stop())
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        logger.error({ msg: 'shutdown failed', err }, 'Main');
        process.exit(1);
      });
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  parentGone = () => {
    setTimeout(() => process.exit(1), ORPHAN_SHUTDOWN_MS).unref();
    shutdown('parent gone');
  };

  await app.listen(config.port);
  logger.log({ msg: 'ec2-manager listening', url: `http://127.0.0.1:${config.port}`, regions: config.regions }, 'Main');
  const developmentToken = app.get(ApiClients).developmentToken;
  if (developmentToken) {
    // The one place a token is ever written out: a fresh one per start, for the person at the sandbox.
    logger.log(
      {
        msg: 'sandbox development client: authorise Swagger UI with this bearer token',
        swaggerUi: `http://127.0.0.1:${config.port}/api`,
        clientId: DEVELOPMENT_CLIENT_ID,
        scopes: ['ec2-manager:*'],
        bearerToken: developmentToken,
      },
      'Main',
    );
  }
}

main().catch((err: unknown) => {
  console.error('ec2-manager: failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
