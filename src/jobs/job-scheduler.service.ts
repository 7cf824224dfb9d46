import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap, OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { SchedulerRegistry } from '@nestjs/schedule';
import { AppConfig, JobName } from '../config/app-config';
import { Metrics } from '../metrics/metrics.service';
import { JobRunRepository } from '../state/job-run.repository';
import { LeaderLock } from '../state/leader-lock.service';
import { JOB_METADATA, JobDefinition } from './job.decorator';
import { JobRunner } from './job-runner';

/**
 * The one runner of periodic jobs. Finds every `@Job` method among the application's providers (the
 * way `@nestjs/schedule` finds `@Cron`), gives each a `JobRunner` with its interval and on/off switch
 * from the configuration and its leader lock, schedules the enabled ones, and stops them all before
 * the database closes.
 */
@Injectable()
export class JobScheduler implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger(JobScheduler.name);
  private readonly runners = new Map<JobName, { runner: JobRunner<unknown>; declaredBy: string }>();

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly config: AppConfig,
    private readonly registry: SchedulerRegistry,
    private readonly leader: LeaderLock,
    private readonly runs: JobRunRepository,
    private readonly metrics: Metrics,
  ) {}

  /** Built before any bootstrap hook, so that a test or `npm run job` can run a job before or without scheduling. */
  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders()) {
      const instance: unknown = wrapper.instance;
      if (!instance || typeof instance !== 'object' || !wrapper.isDependencyTreeStatic()) continue;
      const prototype = Object.getPrototypeOf(instance) as Record<string, unknown> | null;
      if (!prototype) continue;
      for (const key of this.scanner.getAllMethodNames(prototype)) {
        const method = prototype[key] as (signal: AbortSignal) => Promise<unknown>;
        const job = this.reflector.get<JobDefinition | undefined>(JOB_METADATA, method);
        if (job) this.add(job, `${instance.constructor.name}.${key}`, (signal) => method.call(instance, signal));
      }
    }
  }

  onApplicationBootstrap(): void {
    for (const [name, { runner }] of this.runners) {
      if (this.config.job(name).enabled) runner.schedule(this.registry);
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all([...this.runners.values()].map(({ runner }) => runner.stop()));
  }

  /** The runner of a job declared by a loaded module; a tick of it is one run, as the schedule would make it. */
  runner(name: JobName): JobRunner<unknown> {
    const entry = this.runners.get(name);
    if (!entry) throw new Error(`no @Job('${name}') among the loaded modules`);
    return entry.runner;
  }

  private add(job: JobDefinition, declaredBy: string, work: (signal: AbortSignal) => Promise<unknown>): void {
    const existing = this.runners.get(job.name);
    if (existing) {
      throw new Error(`job ${job.name} is declared twice: by ${existing.declaredBy} and by ${declaredBy}`);
    }
    const runner = new JobRunner({
      name: job.name,
      intervalSeconds: this.config.job(job.name).everySeconds,
      leader: this.leader,
      runs: this.runs,
      metrics: this.metrics,
      work,
      summary: job.summary ?? (() => ({})),
    });
    this.runners.set(job.name, { runner, declaredBy });
    this.log.debug({ msg: 'job found', job: job.name, declaredBy });
  }
}
