import { Controller, Get, Param } from '@nestjs/common';
import { ApiOkResponse, ApiParam, ApiTags } from '@nestjs/swagger';
import { WorkerTypeHealthDto, WorkerTypeStateDto, WorkerTypeStatsDto } from './dto/state.dto';
import { Endpoint } from './endpoint.decorator';
import { WorkerTypePipe } from './params';
import { WorkerTypesService } from './worker-types.service';

const WORKER_TYPE_PARAM = { name: 'workerType', example: 'builder', description: '1-64 characters of [a-zA-Z0-9_-]' };

@ApiTags('worker types')
@Controller('v1/worker-types')
export class WorkerTypesController {
  constructor(private readonly workerTypes: WorkerTypesService) {}

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
    description: 'Recent termination notices (spot interruptions, rebalance recommendations, scheduled changes).',
  })
  @ApiParam(WORKER_TYPE_PARAM)
  @ApiOkResponse({ type: WorkerTypeHealthDto })
  health(@Param('workerType', WorkerTypePipe) workerType: string): Promise<WorkerTypeHealthDto> {
    return this.workerTypes.health(workerType);
  }
}
