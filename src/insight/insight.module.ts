import { Module } from '@nestjs/common';
import { Ec2Module } from '../ec2/ec2.module';
import { StateModule } from '../state/state.module';
import { TerminationReasons } from './termination-reasons.service';

/** Operator insight (SPEC §12): why instances ended, what worker types cost, how launches fare. */
@Module({
  imports: [StateModule, Ec2Module],
  providers: [TerminationReasons],
  exports: [TerminationReasons],
})
export class InsightModule {}
