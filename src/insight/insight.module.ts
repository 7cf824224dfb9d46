import { Module } from '@nestjs/common';
import { Ec2Module } from '../ec2/ec2.module';
import { StateModule } from '../state/state.module';
import { InsightMetrics } from './insight-metrics.service';
import { TerminationReasons } from './termination-reasons.service';

/**
 * Operator insight (SPEC §12) behind the API: why instances ended (EC2's reasons, fetched by a job) and
 * the gauges of costs, terminations and launches. The API reads the same tables itself.
 */
@Module({
  imports: [StateModule, Ec2Module],
  providers: [TerminationReasons, InsightMetrics],
  exports: [TerminationReasons],
})
export class InsightModule {}
