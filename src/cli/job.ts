import 'reflect-metadata';
import { Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import type { Logger as PinoLogger } from 'pino';
import { readDevelopmentToken } from '../api/auth/development-token';
import { resolveCloud } from '../cloud';
import { AppConfig, JobName, loadConfig } from '../config/app-config';
import { ConfigModule } from '../config/config.module';
import { InvalidConfigError } from '../config/env';
import { resolveDatabase } from '../database';
import { Logger } from 'nestjs-pino';
import { dataDirOf } from '../data-dir';
import { createBootLogger } from '../logging/logging';
import { LoggingModule } from '../logging/logging.module';
import { MetricsModule } from '../metrics/metrics.module';
import { ServiceLogger } from '../logging/service-logger';
import { findRunningService, RunningService } from '../service-file';
import { HousekeepingModule } from '../housekeeping/housekeeping.module';
import { InsightModule } from '../insight/insight.module';
import { JobScheduler } from '../jobs/job-scheduler.service';
import { JobsModule } from '../jobs/jobs.module';
import { PricingModule } from '../pricing/pricing.module';
import { SpotPollerModule } from '../spot-poller/spot-poller.module';

/** The module whose `@Job` does each job's work: only it is loaded. */
const JOB_MODULES: Record<JobName, Type> = {
  housekeeping: HousekeepingModule,
  pricing: PricingModule,
  'on-demand-pricing': PricingModule,
  'spot-poll': SpotPollerModule,
  'termination-reasons': InsightModule,
};

function isJobName(name: string | undefined): name is JobName {
  return name !== undefined && Object.hasOwn(JOB_MODULES, name);
}

/**
 * `npm run job -- <name>`: one pass of a periodic job, now, then exit (for operators and cron). It
 * takes the job's leader lock like any replica, so it never runs beside the scheduled one.
 *
 * Beside a running `npm start` of the same data directory (its embedded Postgres and in-process sandbox
 * cannot be started twice), it asks that service to run the pass (`POST /v1/internal/jobs/<name>`)
 * instead, with the sandbox development token kept in the data directory.
 * Exit codes: 0 ran, 1 failed, 3 a pass of the job is going elsewhere.
 */
async function main(): Promise<number> {
  const name = process.argv[2];
  if (!isJobName(name)) {
    console.error(`usage: npm run job -- ${Object.keys(JOB_MODULES).join('|')}`);
    return 2;
  }
  const config = loadConfig().withJobsDisabled();
  const boot = createBootLogger(config);
  const running = config.databaseUrl && !config.inProcessSandbox ? null : await findRunningService(config);
  if (running) return askRunningService(config, running, name, boot);
  const database = await resolveDatabase(config, (line) => boot.info({ context: 'Database' }, line));
  try {
    const cloud = await resolveCloud(database.config, (entry) => boot.info({ context: 'Sandbox', ...entry }));
    try {
      const app = await NestFactory.createApplicationContext(
        {
          module: class JobCliModule {},
          imports: [
            ConfigModule.forRoot(cloud.config),
            LoggingModule,
            ScheduleModule.forRoot(),
            MetricsModule,
            JobsModule,
            JOB_MODULES[name],
          ],
        },
        { bufferLogs: true },
      );
      const logger = app.get(Logger);
      app.useLogger(new ServiceLogger(logger));
      try {
        const result = await app.get(JobScheduler).runner(name).tick(true);
        logger.log({ msg: 'job pass finished', job: name, result }, 'Job');
        return result === 'ran' ? 0 : result === 'not-leader' ? 3 : 1;
      } finally {
        await app.close();
      }
    } finally {
      await cloud.stop();
    }
  } finally {
    await database.stop();
  }
}

async function askRunningService(
  config: AppConfig,
  service: RunningService,
  job: string,
  log: PinoLogger,
): Promise<number> {
  const token = config.awsMode === 'sandbox' ? await readDevelopmentToken(dataDirOf(config)) : undefined;
  if (!token) {
    log.error(
      { service },
      `a service (pid ${service.pid}) runs on this data directory; ask it with POST ${service.url}/v1/internal/jobs/${job} and a token of scope ec2-manager:internals`,
    );
    return 1;
  }
  log.info({ context: 'Job', job, service }, 'asking the running service to run the pass');
  const res = await fetch(`${service.url}/v1/internal/jobs/${job}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}` },
  });
  const body = (await res.json()) as Record<string, unknown>;
  if (res.status === 503) {
    log.warn({ context: 'Job', job, answer: body }, 'a pass of the job is going already');
    return 3;
  }
  if (res.status !== 200) {
    log.error({ context: 'Job', job, status: res.status, answer: body }, 'the service refused the pass');
    return 1;
  }
  log.info({ context: 'Job', ...body }, 'job pass finished');
  return body.result === 'ran' ? 0 : 1;
}

main()
  .then((code) => process.exit(code))
  .catch((err: unknown) => {
    console.error(`ec2-manager job: ${err instanceof InvalidConfigError ? err.message : String(err)}`);
    process.exit(1);
  });
