import 'reflect-metadata';
import { Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { resolveCloud } from '../cloud';
import { JobName, loadConfig } from '../config/app-config';
import { ConfigModule } from '../config/config.module';
import { InvalidConfigError } from '../config/env';
import { resolveDatabase } from '../database';
import { Logger } from 'nestjs-pino';
import { createBootLogger } from '../logging/logging';
import { LoggingModule } from '../logging/logging.module';
import { MetricsModule } from '../metrics/metrics.module';
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
  'spot-poll': SpotPollerModule,
  'termination-reasons': InsightModule,
};

function isJobName(name: string | undefined): name is JobName {
  return name !== undefined && Object.hasOwn(JOB_MODULES, name);
}

/**
 * `npm run job -- <name>`: one pass of a periodic job, now, then exit (for operators and cron). It
 * takes the job's leader lock like any replica, so it never runs beside the scheduled one.
 * Exit codes: 0 ran, 1 failed, 3 another replica holds the lock.
 */
async function main(): Promise<number> {
  const name = process.argv[2];
  if (!isJobName(name)) {
    console.error(`usage: npm run job -- ${Object.keys(JOB_MODULES).join('|')}`);
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
            JobsModule,
            JOB_MODULES[name],
          ],
        },
        { bufferLogs: true },
      );
      const logger = app.get(Logger);
      app.useLogger(logger);
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

main()
  .then((code) => process.exit(code))
  .catch((err: unknown) => {
    console.error(`ec2-manager job: ${err instanceof InvalidConfigError ? err.message : String(err)}`);
    process.exit(1);
  });
