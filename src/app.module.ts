import { DynamicModule, Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { ApiModule } from './api/api.module';
import { AwsModule } from './aws/aws.module';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { HealthModule } from './health/health.module';
import { LoggingModule } from './logging/logging.module';
import { MetricsModule } from './metrics/metrics.module';
import { PricingModule } from './pricing/pricing.module';
import { SpotPollerModule } from './spot-poller/spot-poller.module';
import { StateModule } from './state/state.module';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggingModule,
        ScheduleModule.forRoot(),
        StateModule,
        MetricsModule,
        AwsModule,
        PricingModule,
        HealthModule,
        ApiModule,
        SpotPollerModule,
      ],
    };
  }
}
