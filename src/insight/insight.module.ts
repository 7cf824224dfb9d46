import { Module } from '@nestjs/common';
import { Ec2Module } from '../ec2/ec2.module';
import { StateModule } from '../state/state.module';
import { CostService } from './cost.service';
import { InsightMetrics } from './insight-metrics.service';
import { LaunchHealthService } from './launch-health.service';
import { TerminationReasons } from './termination-reasons.service';

/** Operator insight (SPEC §12): why instances ended, what worker types cost, how launches fare. */
@Module({
  imports: [StateModule, Ec2Module],
  providers: [TerminationReasons, CostService, InsightMetrics, LaunchHealthService],
  exports: [TerminationReasons, CostService, LaunchHealthService],
})
export class InsightModule {}
