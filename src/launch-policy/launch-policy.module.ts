import { Module } from '@nestjs/common';
import { StateModule } from '../state/state.module';
import { LaunchPolicyService } from './launch-policy.service';

/** Worker-type policy (SPEC §11), for the launch endpoints and housekeeping. */
@Module({
  imports: [StateModule],
  providers: [LaunchPolicyService],
  exports: [LaunchPolicyService],
})
export class LaunchPolicyModule {}
