import { Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOkResponse, ApiParam, ApiTags } from '@nestjs/swagger';
import { AppConfig, JOB_NAMES } from '../config/app-config';
import { DatabaseStatusService } from '../state/database-status.service';
import { HousekeepingRepository } from '../state/housekeeping.repository';
import { SpotRequestRepository } from '../state/spot-request.repository';
import { UsageRepository } from '../state/usage.repository';
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
import { QueuesService } from './internal.service';
import { JobsService } from './jobs.service';
import { WorkerTypesService } from './worker-types.service';

const INTERNALS = 'internals';

/** Operators' views of the service's own state. */
@ApiTags('internal')
@Controller('v1/internal')
export class InternalController {
  constructor(
    private readonly config: AppConfig,
    private readonly requests: SpotRequestRepository,
    private readonly usage: UsageRepository,
    private readonly database: DatabaseStatusService,
    private readonly workerTypes: WorkerTypesService,
    private readonly queues: QueuesService,
    private readonly housekeeping: HousekeepingRepository,
    private readonly jobs: JobsService,
  ) {}

  @Get('regions')
  @Endpoint({ operationId: 'regions', summary: 'The configured regions', scope: INTERNALS })
  @ApiOkResponse({ type: RegionsDto })
  regions(): RegionsDto {
    return { regions: [...this.config.regions] };
  }

  @Get('spot-requests-to-poll')
  @Endpoint({
    operationId: 'spotRequestsToPoll',
    summary: 'Open spot requests EC2 may still fulfil, per region',
    scope: INTERNALS,
  })
  @ApiOkResponse({ type: [RegionIdsDto] })
  spotRequestsToPoll(): Promise<RegionIdsDto[]> {
    return this.requests.toPoll(this.config.regions);
  }

  @Get('ami-usage')
  @Endpoint({ operationId: 'amiUsage', summary: 'When each image was last used', scope: INTERNALS })
  @ApiOkResponse({ type: [AmiUsageDto] })
  async amiUsage(): Promise<AmiUsageDto[]> {
    return (await this.usage.listAmiUsage()).map((u) => ({ region: u.region, id: u.id, lastUsed: u.lastUsed }));
  }

  @Get('ebs-usage')
  @Endpoint({
    operationId: 'ebsUsage',
    summary: 'EBS volumes per region, type and state, from the last housekeeping sweep',
    scope: INTERNALS,
  })
  @ApiOkResponse({ type: [EbsUsageDto] })
  async ebsUsage(): Promise<EbsUsageDto[]> {
    return (await this.usage.listEbsUsage()).map((u) => ({
      region: u.region,
      volumeType: u.volumeType,
      state: u.state,
      totalCount: u.totalCount,
      totalGb: u.totalGb,
      touched: u.touched,
    }));
  }

  @Get('db-pool-stats')
  @Endpoint({ operationId: 'dbpoolStats', summary: 'Database connection pool counters', scope: INTERNALS })
  @ApiOkResponse({ type: DbPoolStatsDto })
  dbPoolStats(): DbPoolStatsDto {
    return this.database.poolStats();
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
  async lastHousekeeping(): Promise<HousekeepingOutcomeDto[]> {
    return (await this.housekeeping.listOutcomes()).map((o) => ({
      region: o.region,
      started: o.started,
      finished: o.finished,
      durationMs: o.durationMs,
      missingInstances: o.missingInstances,
      missingSpotRequests: o.missingSpotRequests,
      extraneousInstances: o.extraneousInstances,
      extraneousSpotRequests: o.extraneousSpotRequests,
      correctedInstances: o.correctedInstances,
      zombiesKilled: o.zombiesKilled,
      stoppedKilled: o.stoppedKilled,
      tagged: o.tagged,
      error: o.error,
    }));
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
