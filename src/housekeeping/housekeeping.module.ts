import { Module } from '@nestjs/common';
import { AwsModule } from '../aws/aws.module';
import { SpotPollerModule } from '../spot-poller/spot-poller.module';
import { StateModule } from '../state/state.module';
import { HousekeepingJob } from './housekeeping.job';
import { HousekeepingService } from './housekeeping.service';

/** Hourly reconciliation with EC2 (SPEC §6). */
@Module({
  imports: [StateModule, AwsModule, SpotPollerModule],
  providers: [HousekeepingService, HousekeepingJob],
  exports: [HousekeepingService, HousekeepingJob],
})
export class HousekeepingModule {}
