import { Module } from '@nestjs/common';
import { Ec2Module } from '../ec2/ec2.module';
import { StateModule } from '../state/state.module';
import { InstanceAdoption } from './instance-adoption.service';
import { SpotRequestService } from './spot-requests.service';
import { TaggingService } from './tagging.service';

/**
 * What the service does to its own resources in EC2 and in state together: adopting an instance,
 * tagging what was found untagged, and handling spot requests. Shared by the API, the event listener, the spot poller and housekeeping, so
 * that none of them reaches into another.
 */
@Module({
  imports: [StateModule, Ec2Module],
  providers: [InstanceAdoption, SpotRequestService, TaggingService],
  exports: [InstanceAdoption, SpotRequestService, TaggingService],
})
export class ResourcesModule {}
