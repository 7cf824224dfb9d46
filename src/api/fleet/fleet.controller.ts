import { Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiParam, ApiTags } from '@nestjs/swagger';
import { Endpoint } from '../endpoint.decorator';
import { WORKER_TYPE_PARAM, WorkerTypePipe } from '../params';
import { FleetBody, FleetInput } from './fleet-body';
import { FleetAnswerDto, LaunchFleetDto } from './fleet.dto';
import { FleetService } from './fleet.service';

const FLEET_TEXT =
  'Launches `Count` instances over every candidate pool (instance type × zone, or subnet) with one EC2 Fleet ' +
  '(`CreateFleet`, type `instant`) per lifecycle, from a launch template the service keeps per worker type and ' +
  'launch specification (named `<managerId>/<workerType>/<hash>`: EC2 allows no `:` in template names). ' +
  '`Capacity`: `spot`, `on-demand`, or `spot-then-on-demand` (what spot did not deliver is asked on-demand with ' +
  'ClientToken `<ClientToken>-od`; `fellBackToOnDemand` says so). Pools in a capacity cooldown and lifecycles in a ' +
  'quota cooldown are left out before EC2 is asked (`skipped`); what EC2 says of each pool (`errors`) starts ' +
  'cooldowns: `InsufficientInstanceCapacity`/`UnfulfillableCapacity` a capacity cooldown of the pool, ' +
  '`MaxSpotInstanceCountExceeded`/`VcpuLimitExceeded`/`InstanceLimitExceeded`/`MaxFleetCountExceeded` a quota ' +
  "cooldown of the lifecycle. The worker type's `maxInstances` trims `Count` (`trimmedByPolicy`). Every launched " +
  'instance is in state (`pending`) when the call answers. A request that launches nothing still answers 200 and ' +
  'says why.\n\nValidation (one 400 naming every reason, nothing launched): the body schema (Count 1-1000, ' +
  'Candidates 1-60, Capacity and AllocationStrategy known), Region configured, `KeyName` the key pair of the ' +
  'worker type (see ensureKeyPair), the launch specification keys of runInstance without `InstanceType`, ' +
  '`Placement` and `SubnetId` (they come from the candidates) plus `MetadataOptions` (default `HttpTokens: ' +
  'required`) and `CreditSpecification`; `InstanceInitiatedShutdownBehavior` only `terminate`; candidate zones in ' +
  "the region, a zone or a subnet per candidate, not both; instance types within the worker type's policy; a " +
  'ClientToken not used before with another body. Then EC2 is asked with `DryRun`.\n\nIdempotent: the answer is ' +
  'stored under (Region, ClientToken); the same request again answers it and launches nothing.';

@ApiTags('worker types')
@Controller('v1/worker-types')
export class FleetController {
  constructor(private readonly fleets: FleetService) {}

  @Post(':workerType/fleet')
  @HttpCode(200)
  @Endpoint({
    operationId: 'launchFleet',
    summary: 'Launch many instances over many instance types and zones, spot with on-demand fallback',
    description: FLEET_TEXT,
    scope: 'manage-resources:<workerType>',
    unavailable: 'EC2 keeps throttling us',
  })
  @ApiParam(WORKER_TYPE_PARAM)
  @ApiBody({ type: LaunchFleetDto })
  @ApiOkResponse({ type: FleetAnswerDto })
  launchFleet(
    @Param('workerType', WorkerTypePipe) _workerType: string,
    @FleetBody() input: FleetInput,
  ): Promise<FleetAnswerDto> {
    return this.fleets.launchFleet(input);
  }
}
