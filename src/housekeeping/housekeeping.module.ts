import { Module } from '@nestjs/common';
import { Ec2Module } from '../ec2/ec2.module';
import { ResourcesModule } from '../resources/resources.module';
import { StateModule } from '../state/state.module';
import { HousekeepingService } from './housekeeping.service';

/** Hourly reconciliation with EC2 (SPEC §6). */
@Module({
  imports: [StateModule, Ec2Module, ResourcesModule],
  providers: [HousekeepingService],
  exports: [HousekeepingService],
})
export class HousekeepingModule {}
