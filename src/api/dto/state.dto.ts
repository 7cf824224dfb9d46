import { ApiProperty } from '@nestjs/swagger';
import { Instance, LAUNCH_ENDPOINTS, LAUNCH_OUTCOMES, SpotRequest } from '../../state/entities';
import { CountEntry, WorkerTypeCounts } from '../../state/worker-type.repository';

export class CountEntryDto {
  @ApiProperty({ example: 'm5.large' }) instanceType!: string;
  @ApiProperty({ example: 3 }) count!: number;
  @ApiProperty({ enum: ['instance', 'spot-request'] }) type!: 'instance' | 'spot-request';
}

export class WorkerTypeStatsDto {
  @ApiProperty({ type: [CountEntryDto], description: 'Instances in `pending` plus spot requests in `open`' })
  pending!: CountEntryDto[];
  @ApiProperty({ type: [CountEntryDto], description: 'Instances in `running`' })
  running!: CountEntryDto[];
}

export class InstanceDto {
  @ApiProperty({ example: 'us-east-1' }) region!: string;
  @ApiProperty({ example: 'i-0123456789abcdef0' }) id!: string;
  @ApiProperty({ example: 'builder' }) workerType!: string;
  @ApiProperty({ example: 'us-east-1a' }) az!: string;
  @ApiProperty({ example: 'm5.large' }) instanceType!: string;
  @ApiProperty({ enum: ['pending', 'running'] }) state!: string;
  @ApiProperty({ type: String, nullable: true, example: 'sir-abcd1234' }) spotRequestId!: string | null;
  @ApiProperty({ example: 'ami-0123456789abcdef0' }) imageId!: string;
  @ApiProperty() launched!: Date;
  @ApiProperty({ description: 'Time of the newest event applied' }) lastEvent!: Date;
  @ApiProperty({ description: 'Last change of this row' }) touched!: Date;
}

export class SpotRequestDto {
  @ApiProperty({ example: 'us-east-1' }) region!: string;
  @ApiProperty({ example: 'sir-abcd1234' }) id!: string;
  @ApiProperty({ example: 'builder' }) workerType!: string;
  @ApiProperty({ example: 'us-east-1a' }) az!: string;
  @ApiProperty({ example: 'm5.large' }) instanceType!: string;
  @ApiProperty({ example: 'open', description: "EC2's state" }) state!: string;
  @ApiProperty({ example: 'pending-evaluation', description: "EC2's status code" }) status!: string;
  @ApiProperty({ example: 'ami-0123456789abcdef0' }) imageId!: string;
  @ApiProperty() created!: Date;
  @ApiProperty() touched!: Date;
}

export class WorkerTypeStateDto {
  @ApiProperty({ type: [InstanceDto] }) instances!: InstanceDto[];
  @ApiProperty({ type: [SpotRequestDto] }) requests!: SpotRequestDto[];
}

export class TerminationNoticeDto {
  @ApiProperty({ example: 'us-east-1' }) region!: string;
  @ApiProperty({ example: 'i-0123456789abcdef0' }) instanceId!: string;
  @ApiProperty({ enum: ['spot-interruption', 'rebalance-recommendation', 'scheduled-change'] }) kind!: string;
  @ApiProperty({ enum: ['terminate', 'stop', 'hibernate'], nullable: true, type: String }) action!: string | null;
  @ApiProperty({ nullable: true, type: Date, description: 'When EC2 may act, if it said' }) notBefore!: Date | null;
  @ApiProperty() received!: Date;
}

export class CapacityCooldownDto {
  @ApiProperty({ example: 'us-east-1' }) region!: string;
  @ApiProperty({ example: 'us-east-1a', description: 'The zone, or `*` when the failed request named none' })
  az!: string;
  @ApiProperty({ example: 'c5.large' }) instanceType!: string;
  @ApiProperty({ enum: ['spot', 'on-demand'] }) lifecycle!: string;
  @ApiProperty({ description: 'Do not ask for this pool before this time' }) until!: Date;
  @ApiProperty({
    example: 'capacity-not-available',
    description:
      "Why: the status code of a spot request the poller cancelled, EC2's error code for a fleet's pool " +
      '(`InsufficientInstanceCapacity`, `UnfulfillableCapacity`), or `spot-interruption`',
  })
  reason!: string;
  @ApiProperty({ example: 'sir-abcd1234', description: "The request the spot poller cancelled ('' otherwise)" })
  spotRequestId!: string;
  @ApiProperty() created!: Date;
}

/** An account quota EC2 said is used up for a lifecycle in a region (SPEC §11). */
export class QuotaCooldownDto {
  @ApiProperty({ example: 'us-east-1' }) region!: string;
  @ApiProperty({ enum: ['spot', 'on-demand'] }) lifecycle!: string;
  @ApiProperty({ description: 'Launches of this lifecycle in this region are not asked for before this time' })
  until!: Date;
  @ApiProperty({ example: 'VcpuLimitExceeded', description: "EC2's error code" }) reason!: string;
  @ApiProperty({ description: "EC2's message" }) message!: string;
  @ApiProperty({ example: 'builder', description: 'The worker type whose launch ran into it' }) workerType!: string;
  @ApiProperty() created!: Date;
}

const OUTCOME_TEXT =
  '`success`, `insufficient-capacity` (EC2 had no room in the pool), `quota` (an account limit), `throttled`, ' +
  '`invalid` (EC2 refused the request), `error` (anything else)';

export class LaunchCountDto {
  @ApiProperty({ example: 'us-east-1' }) region!: string;
  @ApiProperty({ example: 'us-east-1a', description: "The zone; '' when EC2 did not say which" }) az!: string;
  @ApiProperty({ example: 'm5.large' }) instanceType!: string;
  @ApiProperty({ enum: ['spot', 'on-demand'] }) lifecycle!: string;
  @ApiProperty({ enum: LAUNCH_OUTCOMES, example: 'insufficient-capacity', description: OUTCOME_TEXT }) outcome!: string;
  @ApiProperty({ example: 2, description: 'Instances launched (success) or asked for and not given, last hour' })
  lastHour!: number;
  @ApiProperty({ example: 7, description: 'The same over the last day' }) lastDay!: number;
  @ApiProperty({ example: 3, description: 'Launch attempts (calls to EC2 for this pool) over the last day' })
  attemptsLastDay!: number;
}

export class LaunchErrorDto {
  @ApiProperty() at!: Date;
  @ApiProperty({ example: 'us-east-1' }) region!: string;
  @ApiProperty({ example: 'us-east-1b' }) az!: string;
  @ApiProperty({ example: 'm5.large' }) instanceType!: string;
  @ApiProperty({ enum: ['spot', 'on-demand'] }) lifecycle!: string;
  @ApiProperty({ enum: LAUNCH_ENDPOINTS, description: 'launchFleet, runInstance or requestSpotInstance' })
  endpoint!: string;
  @ApiProperty({ enum: LAUNCH_OUTCOMES, example: 'insufficient-capacity' }) outcome!: string;
  @ApiProperty({ example: 1, description: 'Instances asked for and not given' }) count!: number;
  @ApiProperty({ type: String, nullable: true, example: 'InsufficientInstanceCapacity' }) code!: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    example:
      'We currently do not have sufficient m5.large capacity in the Availability Zone you requested (us-east-1b).',
  })
  message!: string | null;
}

export class FailedSpotRequestDto {
  @ApiProperty({ example: 'us-east-1' }) region!: string;
  @ApiProperty({ example: 'sir-abcd1234' }) id!: string;
  @ApiProperty({ example: 'us-east-1a', description: "The request's zone ('' when it named none)" }) az!: string;
  @ApiProperty({ example: 'm5.large' }) instanceType!: string;
  @ApiProperty({
    example: 'open',
    description: "EC2's state when it was given up: `open` (then cancelled) or `failed`",
  })
  state!: string;
  @ApiProperty({ example: 'price-too-low', description: "EC2's status code: why it will never be fulfilled" })
  status!: string;
  @ApiProperty() failed!: Date;
}

/**
 * What is going wrong for a worker type. An object so that further lists (capacity cooldowns from the
 * spot poller) can be added without breaking callers.
 */
export class WorkerTypeHealthDto {
  @ApiProperty({ example: 'builder' }) workerType!: string;
  @ApiProperty({
    type: [TerminationNoticeDto],
    description:
      'Interruption warnings, rebalance recommendations and scheduled changes for its instances, newest first',
  })
  terminationNotices!: TerminationNoticeDto[];
  @ApiProperty({
    type: [CapacityCooldownDto],
    description:
      'Pools where its launches found no capacity, or its spot instances were interrupted: EC2 cannot give them for a while',
  })
  capacityCooldowns!: CapacityCooldownDto[];
  @ApiProperty({
    type: [QuotaCooldownDto],
    description:
      "Account quotas used up (every worker type's launches of that lifecycle and region wait), kept apart from capacity",
  })
  quotaCooldowns!: QuotaCooldownDto[];
  @ApiProperty({
    type: [FailedSpotRequestDto],
    description:
      'Its spot requests of the last day that will never be fulfilled (cancelled for their status, or failed in EC2), newest first',
  })
  failedRequests!: FailedSpotRequestDto[];
  @ApiProperty({
    type: [LaunchCountDto],
    description:
      'Its launch attempts per region, zone, instance type, lifecycle and outcome: instances over the last hour and day',
  })
  launches!: LaunchCountDto[];
  @ApiProperty({ type: [LaunchErrorDto], description: 'Its last 50 failed launch attempts, newest first' })
  lastErrors!: LaunchErrorDto[];
}

export class AllStateDto extends WorkerTypeStateDto {}

export const toCountEntryDto = (e: CountEntry): CountEntryDto => ({
  instanceType: e.instanceType,
  count: e.count,
  type: e.type,
});

export const toStatsDto = (c: WorkerTypeCounts): WorkerTypeStatsDto => ({
  pending: c.pending.map(toCountEntryDto),
  running: c.running.map(toCountEntryDto),
});

export const toInstanceDto = (i: Instance): InstanceDto => ({
  region: i.region,
  id: i.id,
  workerType: i.workerType,
  az: i.az,
  instanceType: i.instanceType,
  state: i.state,
  spotRequestId: i.spotRequestId,
  imageId: i.imageId,
  launched: i.launched,
  lastEvent: i.lastEvent,
  touched: i.touched,
});

export const toSpotRequestDto = (r: SpotRequest): SpotRequestDto => ({
  region: r.region,
  id: r.id,
  workerType: r.workerType,
  az: r.az,
  instanceType: r.instanceType,
  state: r.state,
  status: r.status,
  imageId: r.imageId,
  created: r.created,
  touched: r.touched,
});
