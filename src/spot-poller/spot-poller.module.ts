import { Module } from '@nestjs/common';
import { Ec2Module } from '../ec2/ec2.module';
import { ResourcesModule } from '../resources/resources.module';
import { StateModule } from '../state/state.module';
import { SpotPoller } from './spot-poller.service';

/** The spot request poller (SPEC §5). */
@Module({
  imports: [StateModule, Ec2Module, ResourcesModule],
  providers: [SpotPoller],
  exports: [SpotPoller],
})
export class SpotPollerModule {}
