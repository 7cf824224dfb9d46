import { DynamicModule, Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { SentryModule } from '@sentry/nestjs/setup';
import { ApiModule } from './api/api.module';
import { AwsModule } from './aws/aws.module';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { EventListenerModule } from './event-listener/event-listener.module';
import { HealthModule } from './health/health.module';
import { JobsModule } from './jobs/jobs.module';
import { HousekeepingModule } from './housekeeping/housekeeping.module';
import { InsightModule } from './insight/insight.module';
import { LoggingModule } from './logging/logging.module';
import { MetricsModule } from './metrics/metrics.module';
import { PricingModule } from './pricing/pricing.module';
import { SpotPollerModule } from './spot-poller/spot-poller.module';
import { SetupModule } from './setup/setup.module';
import { StateModule } from './state/state.module';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    const eventListener = EventListenerModule.register(config);
    return {
      module: AppModule,
      imports: [
        SentryModule.forRoot(),
        ConfigModule.forRoot(config),
        LoggingModule,
        ScheduleModule.forRoot(),
        JobsModule,
        StateModule,
        MetricsModule,
        AwsModule,
        PricingModule,
        HealthModule.register([eventListener]),
        ApiModule,
        SpotPollerModule,
        SetupModule,
        eventListener,
        HousekeepingModule,
        InsightModule,
      ],
    };
  }
}
