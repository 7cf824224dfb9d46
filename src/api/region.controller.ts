import { Controller, Delete, Param, Res } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiParam, ApiTags } from '@nestjs/swagger';
import { CancelSpotRequestResultDto, TerminateInstanceResultDto } from './dto/internal.dto';
import { Endpoint } from './endpoint.decorator';
import type { HttpResponse } from './http-types';
import { INSTANCE_ID, InstanceIdPipe, RegionPipe, SPOT_REQUEST_ID, SpotRequestIdPipe } from './params';
import { TerminationService } from './termination.service';

const REGION_PARAM = { name: 'region', example: 'us-east-1', description: 'One of the configured regions' };
const NOT_HERE = 'not a configured region, or not ours (its key pair name is not one of this deployment)';

/** One instance or spot request at a time, by region and id. */
@ApiTags('resources')
@Controller('v1/region/:region')
export class RegionController {
  constructor(private readonly termination: TerminationService) {}

  @Delete('instance/:id')
  @Endpoint({
    operationId: 'terminateInstance',
    summary: 'Terminate one instance',
    description:
      'Answers its `{current, previous}` states, or 204 when EC2 no longer knows it. It leaves state. EC2 ' +
      'lists a launch only after a lag: an instance it does not list yet is answered 503 with Retry-After ' +
      '(nothing done; ask again), never 204.',
    scope: 'manage-instances:<region>:<id>',
    notFound: NOT_HERE,
  })
  @ApiParam(REGION_PARAM)
  @ApiParam({ name: 'id', example: 'i-0123456789abcdef0', schema: { type: 'string', pattern: INSTANCE_ID.source } })
  @ApiOkResponse({ type: TerminateInstanceResultDto })
  @ApiNoContentResponse({ description: 'EC2 does not know the instance (any more)' })
  async terminateInstance(
    @Param('region', RegionPipe) region: string,
    @Param('id', InstanceIdPipe) id: string,
    @Res({ passthrough: true }) res: HttpResponse,
  ): Promise<TerminateInstanceResultDto | undefined> {
    const result = await this.termination.terminateInstance(region, id);
    if (!result) res.status(204);
    return result ?? undefined;
  }

  @Delete('spot-instance-request/:id')
  @Endpoint({
    operationId: 'cancelSpotInstanceRequest',
    summary: 'Cancel one spot instance request',
    description:
      'Answers its `{current}` state, or 204 when EC2 no longer knows it. It leaves state. An instance ' +
      'that already fulfilled it keeps running: terminate that separately. A request EC2 does not list ' +
      'yet (its API lags) is answered 503 with Retry-After, never 204.',
    scope: 'manage-spot-requests:<region>:<id>',
    notFound: NOT_HERE,
  })
  @ApiParam(REGION_PARAM)
  @ApiParam({ name: 'id', example: 'sir-abcd1234', schema: { type: 'string', pattern: SPOT_REQUEST_ID.source } })
  @ApiOkResponse({ type: CancelSpotRequestResultDto })
  @ApiNoContentResponse({ description: 'EC2 does not know the request (any more)' })
  async cancelSpotInstanceRequest(
    @Param('region', RegionPipe) region: string,
    @Param('id', SpotRequestIdPipe) id: string,
    @Res({ passthrough: true }) res: HttpResponse,
  ): Promise<CancelSpotRequestResultDto | undefined> {
    const result = await this.termination.cancelSpotRequest(region, id);
    if (!result) res.status(204);
    return result ?? undefined;
  }
}
