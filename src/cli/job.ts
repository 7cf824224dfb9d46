import 'reflect-metadata';
import { DynamicModule, INestApplicationContext, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { resolveCloud } from '../cloud';
import { JobRunner } from '../common/job-runner';
import { loadConfig } from '../config/app-config';
import { ConfigModule } from '../config/config.module';
import { InvalidConfigError } from '../config/env';
import { resolveDatabase } from '../database';
import { Logger } from 'nestjs-pino';
import { createBootLogger } from '../logging/logging';
import { LoggingModule } from '../logging/logging.module';
import { MetricsModule } from '../metrics/metrics.module';
import { HousekeepingJob } from '../housekeeping/housekeeping.job';
import { HousekeepingModule } from '../housekeeping/housekeeping.module';
import { InsightModule } from '../insight/insight.module';
import { TerminationReasonsJob } from '../insight/termination-reasons.job';
import { PricingJob } from '../pricing/pricing.job';
import { PricingModule } from '../pricing/pricing.module';
import { SpotPollJob } from '../spot-poller/spot-poll.job';
import { SpotPollerModule } from '../spot-poller/spot-poller.module';

interface JobEntry {
  module: Type | DynamicModule;
  runner: (app: INestApplicationContext) => JobRunner<unknown>;
}

const JOBS: Record<string, JobEntry> = {
  housekeeping: { module: HousekeepingModule, runner: (app) => app.get(HousekeepingJob).runner as JobRunner<unknown> },
  pricing: { module: PricingModule, runner: (app) => app.get(PricingJob).runner as JobRunner<unknown> },
  'spot-poll': { module: SpotPollerModule, runner: (app) => app.get(SpotPollJob).runner as JobRunner<unknown> },
  'termination-reasons': {
    module: InsightModule,
    runner: (app) => app.get(TerminationReasonsJob).runner as JobRunner<unknown>,
  },
};

/**
 * `npm run job -- <name>`: one pass of a periodic job, now, then exit (for operators and cron). It
 * takes the job's leader lock like any replica, so it never runs beside the scheduled one.
 * Exit codes: 0 ran, 1 failed, 3 another replica holds the lock.
 */
async function main(): Promise<number> {
  const name = process.argv[2];
  const job = name ? JOBS[name] : undefined;
  if (!job) {
    console.error(`usage: npm run job -- ${Object.keys(JOBS).join('|')}`);
    return 2;
  }
  const config = loadConfig().withJobsDisabled();
  const boot = createBootLogger(config);
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
            job.module,
          ],
        },
        { bufferLogs: true },
      );
      const logger = app.get(Logger);
      app.useLogger(logger);
      try {
        const result = await job.runner(app).tick(true);
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

main()
  .then((code) => process.exit(code))
  .catch((err: unknown) => {
    console.error(`ec2-manager job: ${err instanceof InvalidConfigError ? err.message : String(err)}`);
    process.exit(1);
  });
