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

async function main(): Promise<void> {
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
