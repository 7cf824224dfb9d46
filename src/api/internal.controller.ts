import { Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOkResponse, ApiParam, ApiTags } from '@nestjs/swagger';
import { JOB_NAMES } from '../config/app-config';
import {
  AmiUsageDto,
  DbPoolStatsDto,
  EbsUsageDto,
  HousekeepingOutcomeDto,
  JobPassDto,
  QueueStatsDto,
  RegionIdsDto,
  RegionsDto,
} from './dto/internal.dto';
import { AllStateDto } from './dto/state.dto';
import { Endpoint } from './endpoint.decorator';
import { InternalService } from './internal.service';
import { JobsService } from './jobs.service';
import { QueuesService } from './queues.service';
import { WorkerTypesService } from './worker-types.service';

const INTERNALS = 'internals';

/** Operators' views of the service's own state. */
@ApiTags('internal')
@Controller('v1/internal')
export class InternalController {
  constructor(
    private readonly internal: InternalService,
    private readonly workerTypes: WorkerTypesService,
    private readonly queues: QueuesService,
    private readonly jobs: JobsService,
  ) {}

  @Get('regions')
  @Endpoint({ operationId: 'regions', summary: 'The configured regions', scope: INTERNALS })
  @ApiOkResponse({ type: RegionsDto })
  regions(): RegionsDto {
    return this.internal.regions();
  }

  @Get('spot-requests-to-poll')
  @Endpoint({
    operationId: 'spotRequestsToPoll',
    summary: 'Open spot requests EC2 may still fulfil, per region',
    scope: INTERNALS,
  })
  @ApiOkResponse({ type: [RegionIdsDto] })
  spotRequestsToPoll(): Promise<RegionIdsDto[]> {
    return this.internal.spotRequestsToPoll();
  }

  @Get('ami-usage')
  @Endpoint({ operationId: 'amiUsage', summary: 'When each image was last used', scope: INTERNALS })
  @ApiOkResponse({ type: [AmiUsageDto] })
  amiUsage(): Promise<AmiUsageDto[]> {
    return this.internal.amiUsage();
  }

  @Get('ebs-usage')
  @Endpoint({
    operationId: 'ebsUsage',
    summary: 'EBS volumes per region, type and state, from the last housekeeping sweep',
    scope: INTERNALS,
  })
  @ApiOkResponse({ type: [EbsUsageDto] })
  ebsUsage(): Promise<EbsUsageDto[]> {
    return this.internal.ebsUsage();
  }

  @Get('db-pool-stats')
  @Endpoint({ operationId: 'dbpoolStats', summary: 'Database connection pool counters', scope: INTERNALS })
  @ApiOkResponse({ type: DbPoolStatsDto })
  dbPoolStats(): DbPoolStatsDto {
    return this.internal.dbPoolStats();
  }

  @Get('all-state')
  @Endpoint({ operationId: 'allState', summary: 'Every instance and spot request in state', scope: INTERNALS })
  @ApiOkResponse({ type: AllStateDto })
  allState(): Promise<AllStateDto> {
    return this.workerTypes.state();
  }

  @Get('sqs-stats')
  @Endpoint({
    operationId: 'sqsStats',
    summary: "Each region's event queue: visible, in flight, delayed, dead-lettered",
    scope: INTERNALS,
  })
  @ApiOkResponse({ type: [QueueStatsDto] })
  sqsStats(): Promise<QueueStatsDto[]> {
    return this.queues.stats();
  }

  @Post('purge-queues')
  @Endpoint({
    operationId: 'purgeQueues',
    summary: "Empties every region's event queue (the dead-letter queues are kept)",
    scope: INTERNALS,
    noContent: true,
  })
  purgeQueues(): Promise<void> {
    return this.queues.purge();
  }

  @Get('housekeeping')
  @Endpoint({
    operationId: 'lastHousekeeping',
    summary: 'The last housekeeping sweep of each region: what it found, fixed and how long it took',
    scope: INTERNALS,
  })
  @ApiOkResponse({ type: [HousekeepingOutcomeDto] })
  lastHousekeeping(): Promise<HousekeepingOutcomeDto[]> {
    return this.internal.lastHousekeeping();
  }

  @Post('jobs/:name')
  @HttpCode(200)
  @Endpoint({
    operationId: 'runJob',
    summary: 'Runs one pass of a periodic job now and answers what it did',
    description:
      `Runs one pass of a periodic job (${JOB_NAMES.map((j) => `\`${j}\``).join(', ')}) on the replica that answers, under the ` +
      "job's leader lock like a scheduled pass (so never beside another pass of it), whether or not the job " +
      'is scheduled on this replica (`*_ENABLED`) and however recently it ran. It answers when the pass ends: ' +
      '`result` `ran` with the counts of its log line, `failed` with the error, or `aborted` when the replica ' +
      'lost the leader lock mid-way. `npm run job -- <name>` beside a running sandbox service calls this.',
    scope: INTERNALS,
    notFound: 'there is no job of that name',
    unavailable: 'a pass of the job is running now (on this or another replica): ask again after Retry-After',
  })
  @ApiParam({ name: 'name', enum: JOB_NAMES })
  @ApiOkResponse({ type: JobPassDto })
  runJob(@Param('name') name: string): Promise<JobPassDto> {
    return this.jobs.runNow(name);
  }
}
