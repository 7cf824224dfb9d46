import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { StateModule } from '../state/state.module';
import { JobScheduler } from './job-scheduler.service';

/**
 * Runs every `@Job` of the loaded modules. Imported once, by the application's root (like
 * `ScheduleModule.forRoot()`, whose registry it schedules through); feature modules only use `@Job`.
 */
@Module({
  imports: [DiscoveryModule, StateModule],
  providers: [JobScheduler],
  exports: [JobScheduler],
})
export class JobsModule {}
