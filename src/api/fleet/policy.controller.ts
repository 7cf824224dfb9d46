import { Body, Controller, Delete, Get, Param, Put } from '@nestjs/common';
import { ApiOkResponse, ApiParam, ApiTags } from '@nestjs/swagger';
import { ResourceNotFoundError } from '../../common/errors';
import { LaunchPolicyService } from '../../launch-policy/launch-policy.service';
import { Endpoint } from '../endpoint.decorator';
import { WORKER_TYPE_PARAM, WorkerTypePipe } from '../params';
import { toPolicyDto, WorkerTypePolicyBodyDto, WorkerTypePolicyDto } from './policy.dto';

@ApiTags('worker types')
@Controller('v1/worker-types')
export class PolicyController {
  constructor(private readonly policies: LaunchPolicyService) {}

  @Get(':workerType/policy')
  @Endpoint({
    operationId: 'getWorkerTypePolicy',
    summary: "The worker type's policy",
    notFound: 'the worker type has no policy',
  })
  @ApiParam(WORKER_TYPE_PARAM)
  @ApiOkResponse({ type: WorkerTypePolicyDto })
  async get(@Param('workerType', WorkerTypePipe) workerType: string): Promise<WorkerTypePolicyDto> {
    const policy = await this.policies.find(workerType);
    if (!policy) throw new ResourceNotFoundError(`worker type ${workerType} has no policy`);
    return toPolicyDto(policy);
  }

  @Put(':workerType/policy')
  @Endpoint({
    operationId: 'putWorkerTypePolicy',
    summary: "Set the worker type's policy (replaces the whole policy)",
    description: 'A field left out or `null` is no rule of the worker type’s own.',
    scope: 'manage-resources:<workerType>',
  })
  @ApiParam(WORKER_TYPE_PARAM)
  @ApiOkResponse({ type: WorkerTypePolicyDto })
  async put(
    @Param('workerType', WorkerTypePipe) workerType: string,
    @Body() body: WorkerTypePolicyBodyDto,
  ): Promise<WorkerTypePolicyDto> {
    const policy = await this.policies.put(workerType, {
      maxInstances: body.maxInstances ?? null,
      maxInstanceLifeHours: body.maxInstanceLifeHours ?? null,
      allowedInstanceTypes: body.allowedInstanceTypes ?? null,
    });
    return toPolicyDto(policy);
  }

  @Delete(':workerType/policy')
  @Endpoint({
    operationId: 'deleteWorkerTypePolicy',
    summary: "Remove the worker type's policy",
    description: 'Idempotent: removing a policy that is not there answers 204 too.',
    scope: 'manage-resources:<workerType>',
    noContent: true,
  })
  @ApiParam(WORKER_TYPE_PARAM)
  async remove(@Param('workerType', WorkerTypePipe) workerType: string): Promise<void> {
    await this.policies.remove(workerType);
  }
}
