import './instrument';
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { AddressInfo } from 'node:net';
import { Logger } from 'nestjs-pino';
import { DEVELOPMENT_CLIENT_ID } from './api/auth/api-clients.service';
import { loadDevelopmentToken } from './api/auth/development-token';
import { AppModule } from './app.module';
import { AppConfig, loadConfig } from './config/app-config';
import { InvalidConfigError } from './config/env';
import { configureApp, HTTP_APP_OPTIONS } from './configure-app';
import { resolveCloud } from './cloud';
import { dataDirOf } from './data-dir';
import { resolveDatabase } from './database';
import { createBootLogger } from './logging/logging';
import { ServiceLogger } from './logging/service-logger';
import { startupSummary } from './logging/startup-summary';
import { removeServiceFile, writeServiceFile } from './service-file';
import { CloudStateRepository } from './state/cloud-state.repository';
import { Tx } from './state/tx.service';

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
  let config = readConfig();
  const boot = createBootLogger(config);
  const development = config.awsMode === 'sandbox' ? await loadDevelopmentToken(dataDirOf(config)) : undefined;
  if (development) config = config.withDevelopmentToken(development.token);
  const database = await resolveDatabase(config, (line) => boot.info({ context: 'Database' }, line));
  const cloud = await resolveCloud(database.config, (entry) => boot.info({ context: 'Sandbox', ...entry }));
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(cloud.config), {
    ...HTTP_APP_OPTIONS,
    bufferLogs: true,
  });
  const logger = app.get(Logger);
  app.useLogger(new ServiceLogger(logger));
  configureApp(app);

  if (cloud.fresh) {
    // The sandbox lives in memory and was just made; the database outlives it. Whatever the database
    // says of the cloud's present describes a cloud that is gone: forget it before anything reads it.
    const forgotten = await app.get(Tx).run((tx) => app.get(CloudStateRepository).forgetCloud(tx));
    const line = {
      msg: 'the sandbox cloud is new (it lives in memory): forgot what the database knew of the previous one',
      ...forgotten,
    };
    if (Object.values(forgotten).some((n) => n > 0)) logger.log(line, 'Main');
    else logger.debug(line, 'Main');
  }

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.log({ msg: 'shutting down', signal }, 'Main');
    app
      .close()
      .then(() => removeServiceFile(cloud.config))
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

  await app.listen(config.port, config.host);
  const address = app.getHttpServer().address() as AddressInfo;
  const summary = startupSummary({
    mode: config.awsMode,
    address,
    database: database.where,
    cloud: cloud.where,
    regions: config.regions,
    development: development && { clientId: DEVELOPMENT_CLIENT_ID, token: development.token, file: development.file },
  });
  if (config.logFormat === 'pretty') logger.log(summary.text, 'Main');
  else logger.log({ msg: 'ec2-manager listening', ...summary.fields }, 'Main');
  if (database.embedded || cloud.fresh) {
    await writeServiceFile(cloud.config, { pid: process.pid, url: summary.fields.url as string });
  }
}

main().catch((err: unknown) => {
  console.error('ec2-manager: failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
