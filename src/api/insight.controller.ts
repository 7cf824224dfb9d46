import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiParam, ApiTags } from '@nestjs/swagger';
import { CostService } from './cost.service';
import { LaunchHealthService } from './launch-health.service';
import { TerminationRepository } from '../state/termination.repository';
import {
  decodeCursor,
  encodeCursor,
  LaunchHealthDto,
  TerminationsDto,
  TerminationsQueryDto,
  toTerminationDto,
  WorkerTypeCostDto,
} from './dto/insight.dto';
import { Endpoint } from './endpoint.decorator';
import { WORKER_TYPE_PARAM, WorkerTypePipe } from './params';

const DEFAULT_PAGE = 100;

/** Operator insight (SPEC §12): why instances ended, what worker types cost, how launches fare. */
@ApiTags('insight')
@Controller('v1')
export class InsightController {
  constructor(
    private readonly terminations: TerminationRepository,
    private readonly costs: CostService,
    private readonly launchHealth: LaunchHealthService,
  ) {}

  @Get('worker-types/:workerType/terminations')
  @Endpoint({
    operationId: 'listTerminations',
    summary: 'Why instances of the worker type ended, newest first, with counts per reason',
    description:
      'Every instance that left state within the retention window (HISTORY_RETENTION_DAYS), a page at a time ' +
      '(`limit`, then `cursor` = the previous `nextCursor`), optionally only those ended `since` a time.',
  })
  @ApiParam(WORKER_TYPE_PARAM)
  @ApiOkResponse({ type: TerminationsDto })
  async listTerminations(
    @Param('workerType', WorkerTypePipe) workerType: string,
    @Query() query: TerminationsQueryDto,
  ): Promise<TerminationsDto> {
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    const [page, counts] = await Promise.all([
      this.terminations.list({ workerType, since: query.since, after, limit: query.limit ?? DEFAULT_PAGE }),
      this.terminations.countByReason(workerType, query.since ?? null),
    ]);
    return {
      terminations: page.terminations.map(toTerminationDto),
      counts,
      nextCursor: page.next ? encodeCursor(page.next) : null,
    };
  }

  @Get('worker-types/:workerType/cost')
  @Endpoint({
    operationId: 'workerTypeCost',
    summary: 'What the worker type costs: its rate now and what it spent per day',
    description:
      "The current rate in USD per hour (each instance in state at its pool's current spot price, or its type's " +
      'on-demand price), per pool, and the cost of each UTC day of the retention window (HISTORY_RETENTION_DAYS) ' +
      'from the instances that ended in it and those still running. Estimates: EC2 bills spot by the second at the ' +
      'price of the moment, and these use the price known when an instance ended (or now).',
  })
  @ApiParam(WORKER_TYPE_PARAM)
  @ApiOkResponse({ type: WorkerTypeCostDto })
  async workerTypeCost(@Param('workerType', WorkerTypePipe) workerType: string): Promise<WorkerTypeCostDto> {
    return { currency: 'USD', ...(await this.costs.workerTypeCost(workerType)) };
  }

  @Get('launch-health')
  @Endpoint({
    operationId: 'launchHealth',
    summary: 'How launches fare for every worker type: outcomes per pool, cooldowns, last errors',
    description:
      'Every launch attempt (launchFleet per pool, runInstance, requestSpotInstance) is recorded with its outcome: ' +
      "`success`, `insufficient-capacity`, `quota`, `throttled`, `invalid`, `error`, and EC2's code and message. " +
      'This counts instances per worker type, region, zone, instance type, lifecycle and outcome over the last ' +
      'hour and day, lists the active capacity and quota cooldowns (pools and lifecycles launches leave out), and ' +
      "the last 50 failed attempts. A worker type's own view is in workerTypeHealth.",
  })
  @ApiOkResponse({ type: LaunchHealthDto })
  launchHealthOfAll(): Promise<LaunchHealthDto> {
    return this.launchHealth.health(null);
  }
}
