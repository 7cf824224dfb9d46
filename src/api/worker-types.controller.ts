import { Controller, Delete, Get, Param, Put } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiParam, ApiTags } from '@nestjs/swagger';
import { keyPairNameFor } from '../ec2/naming';
import { AppConfig } from '../config/app-config';
import { KeyPairDto } from './dto/internal.dto';
import { RequestSpotInstanceDto, RunInstanceDto } from './dto/launch.dto';
import { KeyPairsService } from './key-pairs.service';
import { LaunchBody } from './launch/launch-body';
import { LaunchService } from './launch/launch.service';
import { TerminationService } from './termination.service';
import { WorkerTypeHealthDto, WorkerTypeStateDto, WorkerTypeStatsDto } from './dto/state.dto';
import { ApiErrorResponse, Endpoint } from './endpoint.decorator';
import { WORKER_TYPE_PARAM, WorkerTypePipe } from './params';
import { WorkerTypesService } from './worker-types.service';

const LAUNCH_RULES_TEXT =
  'Checked in this order, before EC2 is asked anything, and every failure is named in `details.reasons` ' +
  '(`rule`: `schema`, `region`, `key-name`, `mandatory-keys`, `allowed-keys`, `availability-zone`): ' +
  'the body schema (ClientToken 1-64 of [a-zA-Z0-9_-], Region configured, SpotPrice a positive number); ' +
  '`KeyName` equal to the key pair of this worker type (`<managerId>:<workerType>:<hash>`, see ensureKeyPair); ' +
  'the mandatory keys `ImageId`, `InstanceType`, `KeyName` and no key outside the allowed set; ' +
  "`Placement.AvailabilityZone` in the region; the instance type within the worker type's policy (rule `policy`). " +
  'Then EC2 is asked with `DryRun` (rule `dry-run`), then for real ' +
  '(rule `ec2`). The same ClientToken launches nothing twice: a retry answers 204 as the first call did. ' +
  'Call ensureKeyPair for the worker type once before launching.';
const UNAVAILABLE = 'EC2 has no capacity for it, refuses for an account limit, or keeps throttling us';

@ApiTags('worker types')
@Controller('v1/worker-types')
export class WorkerTypesController {
  constructor(
    private readonly config: AppConfig,
    private readonly workerTypes: WorkerTypesService,
    private readonly launches: LaunchService,
    private readonly keyPairs: KeyPairsService,
    private readonly termination: TerminationService,
  ) {}

  @Get()
  @Endpoint({ operationId: 'listWorkerTypes', summary: 'Worker types with any instance or spot request, sorted' })
  @ApiOkResponse({ type: [String] })
  list(): Promise<string[]> {
    return this.workerTypes.list();
  }

  @Get(':workerType/stats')
  @Endpoint({
    operationId: 'workerTypeStats',
    summary: 'Counts of pending and running capacity by instance type',
    description:
      '`running`: instances in `running`. `pending`: instances in `pending` plus open spot requests; ' +
      'each entry says which (`type`).',
  })
  @ApiParam(WORKER_TYPE_PARAM)
  @ApiOkResponse({ type: WorkerTypeStatsDto })
  stats(@Param('workerType', WorkerTypePipe) workerType: string): Promise<WorkerTypeStatsDto> {
    return this.workerTypes.stats(workerType);
  }

  @Get(':workerType/state')
  @Endpoint({ operationId: 'workerTypeState', summary: 'Every instance and spot request of the worker type' })
  @ApiParam(WORKER_TYPE_PARAM)
  @ApiOkResponse({ type: WorkerTypeStateDto })
  state(@Param('workerType', WorkerTypePipe) workerType: string): Promise<WorkerTypeStateDto> {
    return this.workerTypes.state(workerType);
  }

  @Get(':workerType/health')
  @Endpoint({
    operationId: 'workerTypeHealth',
    summary: 'What is going wrong for the worker type',
    description:
      'Recent termination notices (spot interruptions, rebalance recommendations, scheduled changes), the capacity ' +
      'cooldowns its launches or requests started, the quotas in cooldown, its failed spot requests of the last ' +
      'day, its launch attempts per region, zone, instance type, lifecycle and outcome over the last hour and day, ' +
      "and its last 50 failed launch attempts with EC2's code and message. `launchHealth` is the same for every " +
      'worker type.',
  })
  @ApiParam(WORKER_TYPE_PARAM)
  @ApiOkResponse({ type: WorkerTypeHealthDto })
  health(@Param('workerType', WorkerTypePipe) workerType: string): Promise<WorkerTypeHealthDto> {
    return this.workerTypes.health(workerType);
  }

  @Put(':workerType/spot-request')
  @Endpoint({
    operationId: 'requestSpotInstance',
    summary: 'Request one spot instance (RequestSpotInstances, one-time)',
    description: `${LAUNCH_RULES_TEXT} The spot request is tagged at creation and recorded in state while open.`,
    scope: 'manage-resources:<workerType>',
    noContent: true,
    unavailable: UNAVAILABLE,
  })
  @ApiErrorResponse(
    'LimitExceeded',
    "the worker type is at its policy's maxInstances",
    'worker type builder is at its maxInstances (10): 10 instances, open spot requests and launches under way',
    { maxInstances: 10, counted: 10 },
  )
  @ApiParam(WORKER_TYPE_PARAM)
  @ApiBody({ type: RequestSpotInstanceDto })
  requestSpotInstance(
    @Param('workerType', WorkerTypePipe) workerType: string,
    @LaunchBody() body: RequestSpotInstanceDto,
  ): Promise<void> {
    return this.launches.requestSpotInstance(workerType, body);
  }

  @Put(':workerType/instance')
  @Endpoint({
    operationId: 'runInstance',
    summary: 'Launch one instance (RunInstances), on-demand or spot',
    description:
      `${LAUNCH_RULES_TEXT} \`RequestType: spot\` launches a one-time spot instance through ` +
      'InstanceMarketOptions (SpotPrice, if given, is the maximum price). The instance and its volumes are ' +
      'tagged at launch and recorded in state.',
    scope: 'manage-resources:<workerType>',
    noContent: true,
    unavailable: UNAVAILABLE,
  })
  @ApiErrorResponse(
    'LimitExceeded',
    "the worker type is at its policy's maxInstances",
    'worker type builder is at its maxInstances (10): 10 instances, open spot requests and launches under way',
    { maxInstances: 10, counted: 10 },
  )
  @ApiParam(WORKER_TYPE_PARAM)
  @ApiBody({ type: RunInstanceDto })
  runInstance(
    @Param('workerType', WorkerTypePipe) workerType: string,
    @LaunchBody() body: RunInstanceDto,
  ): Promise<void> {
    return this.launches.runInstance(workerType, body);
  }

  @Delete(':workerType/resources')
  @Endpoint({
    operationId: 'terminateWorkerType',
    summary: 'Terminate all instances and cancel all spot requests of the worker type, in every region',
    description: 'Both those in state and those EC2 knows under its key names; batched calls. They leave state.',
    scope: 'manage-resources:<workerType>',
    noContent: true,
  })
  @ApiParam(WORKER_TYPE_PARAM)
  terminateWorkerType(@Param('workerType', WorkerTypePipe) workerType: string): Promise<void> {
    return this.termination.terminateWorkerType(workerType);
  }

  @Get(':workerType/key-pair')
  @Endpoint({
    operationId: 'ensureKeyPair',
    summary: "Make sure the worker type's key pair exists in every region, and name it",
    description:
      'Imports the key pair `<managerId>:<workerType>:<hash>` where it is missing, with the public key of ' +
      'INSTANCE_PUBKEY; `<hash>` is the first 7 hex digits of the SHA-256 of `<type> <base64>` (the key without ' +
      'its comment). Answers the name, which every launch of the worker type must give as `KeyName`. Idempotent ' +
      'and remembered: repeated calls are cheap.',
    scope: 'manage-resources:<workerType>',
  })
  @ApiParam(WORKER_TYPE_PARAM)
  @ApiOkResponse({ type: KeyPairDto })
  async ensureKeyPair(@Param('workerType', WorkerTypePipe) workerType: string): Promise<KeyPairDto> {
    await this.keyPairs.ensure(workerType);
    return { keyName: keyPairNameFor(this.config, workerType), regions: [...this.config.regions] };
  }

  @Delete(':workerType/key-pair')
  @Endpoint({
    operationId: 'removeKeyPair',
    summary: "Delete the worker type's key pair in every region where it exists",
    scope: 'manage-resources:<workerType>',
    noContent: true,
  })
  @ApiParam(WORKER_TYPE_PARAM)
  removeKeyPair(@Param('workerType', WorkerTypePipe) workerType: string): Promise<void> {
    return this.keyPairs.remove(workerType);
  }
}
