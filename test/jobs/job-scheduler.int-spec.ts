import { Injectable, Module } from '@nestjs/common';
import { ScheduleModule, SchedulerRegistry } from '@nestjs/schedule';
import { Test, TestingModule } from '@nestjs/testing';
import { DataSource } from 'typeorm';
import { AppConfig } from '../../src/config/app-config';
import { ConfigModule } from '../../src/config/config.module';
import { Job } from '../../src/jobs/job.decorator';
import { JobScheduler } from '../../src/jobs/job-scheduler.service';
import { JobsModule } from '../../src/jobs/jobs.module';
import { MetricsModule } from '../../src/metrics/metrics.module';
import { JobRunRepository } from '../../src/state/job-run.repository';
import { createTestDatabase, TestDatabase } from '../db';

@Injectable()
class Sweeper {
  readonly signals: AbortSignal[] = [];

  @Job('housekeeping', { summary: (n) => ({ swept: n }) })
  sweep(signal: AbortSignal): Promise<number> {
    this.signals.push(signal);
    return Promise.resolve(3);
  }

  notAJob(): number {
    return 0;
  }
}

@Module({ providers: [Sweeper] })
class SweeperModule {}

@Injectable()
class SecondSweeper {
  @Job('housekeeping')
  other(): Promise<void> {
    return Promise.resolve();
  }
}

@Module({ providers: [SecondSweeper] })
class SecondSweeperModule {}

describe('jobs declared by @Job', () => {
  let db: TestDatabase;
  let module: TestingModule | undefined;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    await module?.close();
    module = undefined;
  });
  afterAll(() => db.drop());

  async function boot(env: Record<string, string | number | boolean>, ...features: (typeof SweeperModule)[]) {
    const config = AppConfig.forTest({ DATABASE_URL: db.url, RUN_MIGRATIONS: false, ...env });
    const m = await Test.createTestingModule({
      imports: [ConfigModule.forRoot(config), ScheduleModule.forRoot(), MetricsModule, JobsModule, ...features],
    }).compile();
    try {
      await m.init();
    } catch (err) {
      // A module whose init failed cannot be closed (close awaits the init): free its connections by hand.
      await m.get(DataSource).destroy();
      throw err;
    }
    module = m;
    return m;
  }

  it('are found on the method that does the work and run under the leader lock, recorded', async () => {
    const m = await boot({ HOUSEKEEPING_ENABLED: false }, SweeperModule);
    expect(await m.get(JobScheduler).runner('housekeeping').tick(true)).toBe('ran');
    const sweeper = m.get(Sweeper);
    expect(sweeper.signals).toHaveLength(1);
    expect(sweeper.signals[0].aborted).toBe(false);
    expect(await m.get(JobRunRepository).find('housekeeping')).toMatchObject({ ok: true });
    expect(() => m.get(JobScheduler).runner('pricing')).toThrow("no @Job('pricing') among the loaded modules");
  });

  it('are scheduled at the interval the configuration gives, and only when it switches them on', async () => {
    let m = await boot({ HOUSEKEEPING_ENABLED: false }, SweeperModule);
    expect(m.get(SchedulerRegistry).getIntervals()).not.toContain('housekeeping');
    await m.close();

    m = await boot({ HOUSEKEEPING_ENABLED: true, HOUSEKEEPING_SECONDS: 3600 }, SweeperModule);
    expect(m.get(SchedulerRegistry).getIntervals()).toContain('housekeeping');
    expect(m.get(JobScheduler).runner('housekeeping').intervalSeconds).toBe(3600);
  });

  it('refuses to boot when two methods declare the same job', async () => {
    await expect(boot({ HOUSEKEEPING_ENABLED: false }, SweeperModule, SecondSweeperModule)).rejects.toThrow(
      'job housekeeping is declared twice: by Sweeper.sweep and by SecondSweeper.other',
    );
  });
});
