import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test, TestingModule } from '@nestjs/testing';
import { Logger } from 'nestjs-pino';
import { DataSource } from 'typeorm';
import { AppModule } from '../src/app.module';
import { AppConfig, JobName } from '../src/config/app-config';
import { configureApp, HTTP_APP_OPTIONS } from '../src/configure-app';
import { JobRunner } from '../src/jobs/job-runner';
import { JobScheduler } from '../src/jobs/job-scheduler.service';
import { LOG_DESTINATION } from '../src/logging/logging.module';
import { Sandbox, SandboxOptions, startSandbox } from '../src/sandbox';
import { createTestDatabase, TestDatabase } from './db';
import { emptyTables } from './support/tables';
import { LogCapture, testLogs } from './log-capture';

export const TEST_REGIONS = ['us-east-1', 'us-west-2'];

export interface AppHarnessOptions {
  /** Settings on top of the test defaults (sandbox endpoints, this file's database, no migrations). */
  env?: Record<string, string | number | boolean | undefined>;
  sandbox?: Partial<SandboxOptions>;
  /** Extra Nest modules beside AppModule (e.g. a test-only module). */
  init?: boolean;
  /** A database of the test's own (e.g. on a server it stops and freezes) instead of a clone; not dropped. */
  databaseUrl?: string;
}

export interface AppHarness {
  app: NestExpressApplication;
  module: TestingModule;
  config: AppConfig;
  sandbox: Sandbox;
  db: TestDatabase;
  dataSource: DataSource;
  /** The JSON lines the service wrote (this test file's, shared by its harnesses). */
  logs: LogCapture;
  get<T>(type: new (...args: never[]) => T): T;
  /** The runner of a periodic job: a tick is one run, exactly as the schedule makes it. */
  job(name: JobName): JobRunner<unknown>;
  /** Empties every state table and resets the sandbox. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The whole service as production wires it, on this test file's own database and its own sandbox
 * cloud (free ports), reached through the same AWS SDK clients as production.
 */
export async function createAppHarness(options: AppHarnessOptions = {}): Promise<AppHarness> {
  const db: TestDatabase = options.databaseUrl
    ? { url: options.databaseUrl, name: new URL(options.databaseUrl).pathname.slice(1), drop: () => Promise.resolve() }
    : await createTestDatabase();
  const regions = String(options.env?.REGIONS ?? TEST_REGIONS.join(',')).split(',');
  const sandbox = await startSandbox({ regions, ...options.sandbox });
  const config = AppConfig.forTest({
    DATABASE_URL: db.url,
    RUN_MIGRATIONS: false,
    AWS_MODE: 'sandbox',
    EC2_ENDPOINT: sandbox.endpoints.ec2,
    SQS_ENDPOINT: sandbox.endpoints.sqs,
    EVENTS_ENDPOINT: sandbox.endpoints.events,
    PRICING_ENDPOINT: sandbox.endpoints.pricing,
    REGIONS: regions.join(','),
    AWS_MAX_ATTEMPTS: 3,
    AWS_TIMEOUT_MS: 10000,
    // Periodic jobs would act on other tests' fixtures; a test that wants one switches it on or calls it.
    SPOT_POLL_ENABLED: false,
    HOUSEKEEPING_ENABLED: false,
    PRICING_ENABLED: false,
    TERMINATION_REASONS_ENABLED: false,
    // The event consumers run only where a test asks for them, so that events don't move other tests' state.
    EVENT_LISTENER_ENABLED: false,
    SQS_WAIT_TIME_SECONDS: 1,
    LOG_LEVEL: 'info',
    ...options.env,
  });
  const module = await Test.createTestingModule({ imports: [AppModule.forRoot(config)] })
    .overrideProvider(LOG_DESTINATION)
    .useValue(testLogs.stream)
    .compile();
  const nest = module.createNestApplication<NestExpressApplication>({ ...HTTP_APP_OPTIONS, bufferLogs: true });
  nest.useLogger(nest.get(Logger));
  const app = configureApp(nest);
  if (options.init !== false) await app.init();
  const dataSource = module.get(DataSource);
  return {
    app,
    module,
    config,
    sandbox,
    db,
    dataSource,
    logs: testLogs,
    get: (type) => module.get(type),
    job: (name) => module.get(JobScheduler).runner(name),
    async reset() {
      await emptyTables(dataSource);
      await sandbox.control.reset();
    },
    async close() {
      await app.close();
      await sandbox.stop();
      await db.drop();
    },
  };
}
