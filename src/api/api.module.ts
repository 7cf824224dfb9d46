import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AwsModule } from '../aws/aws.module';
import { Ec2Module } from '../ec2/ec2.module';
import { JobsModule } from '../jobs/jobs.module';
import { LaunchPolicyModule } from '../launch-policy/launch-policy.module';
import { PricesModule } from '../prices/prices.module';
import { ResourcesModule } from '../resources/resources.module';
import { StateModule } from '../state/state.module';
import { ApiClients } from './auth/api-clients.service';
import { AuthGuard } from './auth/auth.guard';
import { InsightController } from './insight.controller';
import { CostService } from './cost.service';
import { InternalController } from './internal.controller';
import { InternalService } from './internal.service';
import { JobsService } from './jobs.service';
import { QueuesService } from './queues.service';
import { MetaController, RootController } from './meta.controller';
import { RegionPipe } from './params';
import { PricesController } from './prices.controller';
import { WorkerTypesController } from './worker-types.controller';
import { PolicyController } from './fleet/policy.controller';
import { FleetController } from './fleet/fleet.controller';
import { FleetBodyPipe } from './fleet/fleet-body';
import { FleetService } from './fleet/fleet.service';
import { WorkerTypesService } from './worker-types.service';
import { KeyPairsService } from './key-pairs.service';
import { LaunchHealthService } from './launch-health.service';
import { LaunchBodyPipe } from './launch/launch-body';
import { LaunchService } from './launch/launch.service';
import { RegionController } from './region.controller';
import { TerminationService } from './termination.service';

/** The REST API of SPEC §8. */
@Module({
  imports: [StateModule, AwsModule, Ec2Module, ResourcesModule, PricesModule, LaunchPolicyModule, JobsModule],
  controllers: [
    RootController,
    MetaController,
    WorkerTypesController,
    PolicyController,
    FleetController,
    RegionController,
    PricesController,
    InternalController,
    InsightController,
  ],
  providers: [
    ApiClients,
    { provide: APP_GUARD, useClass: AuthGuard },
    WorkerTypesService,
    InternalService,
    QueuesService,
    JobsService,
    RegionPipe,
    LaunchBodyPipe,
    FleetBodyPipe,
    FleetService,
    KeyPairsService,
    LaunchService,
    TerminationService,
    CostService,
    LaunchHealthService,
  ],
  exports: [ApiClients],
})
export class ApiModule {}
