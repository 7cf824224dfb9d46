import { Global, Module } from '@nestjs/common';
import { StateModule } from '../state/state.module';
import { MetricsController } from './metrics.controller';
import { Metrics } from './metrics.service';
import { StateMetrics } from './state-metrics.service';

@Global()
@Module({
  imports: [StateModule],
  controllers: [MetricsController],
  providers: [Metrics, StateMetrics],
  exports: [Metrics],
})
export class MetricsModule {}
