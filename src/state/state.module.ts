import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '../config/app-config';
import { dataSourceOptions } from './data-source';
import { EventLogRepository } from './event-log.repository';
import { InstanceRepository } from './instance.repository';
import { CapacityCooldownRepository } from './capacity-cooldown.repository';
import { CloudStateRepository } from './cloud-state.repository';
import { FailedSpotRequestRepository } from './failed-spot-request.repository';
import { CostRepository } from './cost.repository';
import { DatabaseStatusService } from './database-status.service';
import { HistoryRepository } from './history.repository';
import { HousekeepingRepository } from './housekeeping.repository';
import { JobRunRepository } from './job-run.repository';
import { LaunchHealthRepository } from './launch-health.repository';
import { LeaderLock } from './leader-lock.service';
import { OnDemandPriceRepository } from './on-demand-price.repository';
import { PendingTagRepository } from './pending-tag.repository';
import { PoolGuard } from './pool-guard.service';
import { SpotPriceRepository } from './spot-price.repository';
import { SpotRequestRepository } from './spot-request.repository';
import { TerminationNoticeRepository } from './termination-notice.repository';
import { TerminationRepository } from './termination.repository';
import { Tx } from './tx.service';
import { UsageRepository } from './usage.repository';
import { WorkerTypeRepository } from './worker-type.repository';
import { WorkerTypePolicyRepository } from './worker-type-policy.repository';
import { FleetLaunchRepository } from './fleet-launch.repository';
import { LaunchTemplateRepository } from './launch-template.repository';
import { LaunchOutcomeRepository } from './launch-outcome.repository';

const REPOSITORIES = [
  InstanceRepository,
  SpotRequestRepository,
  WorkerTypeRepository,
  EventLogRepository,
  UsageRepository,
  TerminationNoticeRepository,
  CapacityCooldownRepository,
  FailedSpotRequestRepository,
  JobRunRepository,
  HousekeepingRepository,
  SpotPriceRepository,
  TerminationRepository,
  WorkerTypePolicyRepository,
  FleetLaunchRepository,
  LaunchTemplateRepository,
  LaunchOutcomeRepository,
  CloudStateRepository,
  HistoryRepository,
  OnDemandPriceRepository,
  LaunchHealthRepository,
  CostRepository,
  PendingTagRepository,
];

/** The state database (SPEC §3): the only module that touches Postgres. */
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => {
        if (!config.databaseUrl) throw new Error('no database URL: main.ts starts the embedded Postgres first');
        return {
          ...dataSourceOptions(config.databaseUrl, config.dbPoolSize, config.dbStatementTimeoutMs, config.databaseTls),
          migrationsRun: config.runMigrations,
        };
      },
    }),
  ],
  providers: [Tx, DatabaseStatusService, LeaderLock, PoolGuard, ...REPOSITORIES],
  exports: [Tx, DatabaseStatusService, LeaderLock, ...REPOSITORIES],
})
export class StateModule {}
