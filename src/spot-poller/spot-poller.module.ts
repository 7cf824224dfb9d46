import { Module } from '@nestjs/common';
import { AwsModule } from '../aws/aws.module';
import { StateModule } from '../state/state.module';
import { SpotPollJob } from './spot-poll.job';
import { SpotPoller } from './spot-poller.service';

/** The spot request poller (SPEC §5). */
@Module({
  imports: [StateModule, AwsModule],
  providers: [SpotPoller, SpotPollJob],
  exports: [SpotPoller, SpotPollJob],
})
export class SpotPollerModule {}
