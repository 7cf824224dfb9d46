import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDate, IsInt, Matches, Max, Min } from 'class-validator';
import { IsOmittable } from './omittable';
import { InputError } from '../../common/errors';
import { CapacityCooldownDto, LaunchCountDto, LaunchErrorDto, QuotaCooldownDto } from './state.dto';
import { INSTANCE_LIFECYCLES, Termination, TERMINATION_REASONS } from '../../state/entities';
import { TerminationCursor } from '../../state/termination.repository';

const CURSOR = /^[A-Za-z0-9_-]{1,400}$/;

export class TerminationsQueryDto {
  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    example: '2026-01-01T00:00:00Z',
    description: 'Only instances that ended at or after this time',
  })
  @IsOmittable()
  @Type(() => Date)
  @IsDate({ message: 'since must be an ISO 8601 date-time' })
  since?: Date;

  @ApiPropertyOptional({
    description: 'The `nextCursor` of the previous page',
    example: 'eyJlIjoiMTc2NTAwMDAwMDAwMDAwMCJ9',
  })
  @IsOmittable()
  @Matches(CURSOR, { message: 'cursor must be the nextCursor of a previous page' })
  cursor?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 1000, default: 100 })
  @IsOmittable()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;
}

export class TerminationDto {
  @ApiProperty({ example: 'us-east-1' }) region!: string;
  @ApiProperty({ example: 'i-0123456789abcdef0' }) instanceId!: string;
  @ApiProperty({ example: 'builder' }) workerType!: string;
  @ApiProperty({ example: 'm5.large' }) instanceType!: string;
  @ApiProperty({ example: 'us-east-1a' }) az!: string;
  @ApiProperty({ enum: INSTANCE_LIFECYCLES }) lifecycle!: string;
  @ApiProperty() launched!: Date;
  @ApiProperty({ description: 'When it left state (the time of the event that said so, when an event did)' })
  ended!: Date;
  @ApiProperty({
    enum: TERMINATION_REASONS,
    example: 'spot-interruption',
    description:
      'Our own decision (`zombie`, `stopped`, `terminate-worker-type`, `terminate-instance`, `policy`), a spot ' +
      "interruption (its notice, or EC2's `Server.SpotInstanceTermination`), or EC2's StateReason: " +
      '`user-initiated` (someone terminated it outside this service), `instance-initiated` (it shut itself down), ' +
      '`insufficient-capacity`, `ec2-error`, `ec2-other`. `unresolved`: EC2 has not been asked yet (within a ' +
      'minute or so); `unknown`: EC2 no longer shows it or gave no reason.',
  })
  reason!: string;
  @ApiProperty({
    type: String,
    nullable: true,
    example: 'Server.SpotInstanceTermination',
    description: "EC2's StateReason code",
  })
  code!: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    example: 'Server.SpotInstanceTermination: Spot instance termination',
  })
  message!: string | null;
  @ApiProperty({
    type: Number,
    nullable: true,
    example: 0.0312,
    description: 'USD per hour of its pool (spot or on-demand price) when it ended, if known',
  })
  hourlyPrice!: number | null;
}

export class ReasonCountDto {
  @ApiProperty({ enum: TERMINATION_REASONS, example: 'spot-interruption' }) reason!: string;
  @ApiProperty({ example: 12 }) count!: number;
}

export class TerminationsDto {
  @ApiProperty({ type: [TerminationDto], description: 'Newest first' }) terminations!: TerminationDto[];
  @ApiProperty({
    type: [ReasonCountDto],
    description: 'How many ended for each reason, over the same window (`since`, else the whole retention)',
  })
  counts!: ReasonCountDto[];
  @ApiProperty({ type: String, nullable: true, description: 'Pass as `cursor` for the next page; null on the last' })
  nextCursor!: string | null;
}

export const toTerminationDto = (t: Termination): TerminationDto => ({
  region: t.region,
  instanceId: t.instanceId,
  workerType: t.workerType,
  instanceType: t.instanceType,
  az: t.az,
  lifecycle: t.lifecycle,
  launched: t.launched,
  ended: t.ended,
  reason: t.reason,
  code: t.code,
  message: t.message,
  hourlyPrice: t.hourlyPrice,
});

export function encodeCursor(c: TerminationCursor): string {
  return Buffer.from(JSON.stringify({ e: c.endedUs, r: c.region, i: c.instanceId })).toString('base64url');
}

/** A cursor of ours back, or a 400 naming it. */
export function decodeCursor(raw: string): TerminationCursor {
  try {
    const v = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (typeof v.e === 'string' && /^-?\d{1,19}$/.test(v.e) && typeof v.r === 'string' && typeof v.i === 'string') {
      return { endedUs: v.e, region: v.r, instanceId: v.i };
    }
  } catch {
    // answered below
  }
  throw InputError.of([{ rule: 'schema', path: 'cursor', message: 'must be the nextCursor of a previous page' }]);
}

export class PoolCostDto {
  @ApiProperty({ example: 'us-east-1' }) region!: string;
  @ApiProperty({ example: 'us-east-1a' }) az!: string;
  @ApiProperty({ example: 'm5.large' }) instanceType!: string;
  @ApiProperty({ enum: INSTANCE_LIFECYCLES, example: 'spot' }) lifecycle!: string;
  @ApiProperty({ example: 4, description: 'Instances of the worker type in state in this pool' }) count!: number;
  @ApiProperty({
    type: Number,
    nullable: true,
    example: 0.0312,
    description:
      "USD per hour of one instance: the pool's current spot price, or the type's on-demand price; null until known",
  })
  hourlyPrice!: number | null;
  @ApiProperty({ example: 0.1248, description: 'USD per hour of the pool: count × hourlyPrice' }) ratePerHour!: number;
}

export class DailyCostDto {
  @ApiProperty({ example: '2026-01-01', description: 'UTC day' }) day!: string;
  @ApiProperty({ example: 2.9952, description: 'USD spent that day (so far, for today)' }) cost!: number;
}

export class WorkerTypeCostDto {
  @ApiProperty({ example: 'builder' }) workerType!: string;
  @ApiProperty({ enum: ['USD'] }) currency!: 'USD';
  @ApiProperty({ example: 0.1248, description: 'USD per hour of every instance in state, each at its pool price now' })
  ratePerHour!: number;
  @ApiProperty({ type: [PoolCostDto] }) pools!: PoolCostDto[];
  @ApiProperty({ example: 0, description: 'Instances whose pool has no known price yet (not in ratePerHour)' })
  unpricedInstances!: number;
  @ApiProperty({ example: 14, description: 'HISTORY_RETENTION_DAYS: how many days `days` covers' })
  retentionDays!: number;
  @ApiProperty({
    type: [DailyCostDto],
    description:
      'Oldest first, today last: ended instances at the price of their pool when they ended, instances in state at ' +
      'the price now, over the hours each ran that day',
  })
  days!: DailyCostDto[];
}

export class WorkerTypeLaunchCountDto extends LaunchCountDto {
  @ApiProperty({ example: 'builder' }) workerType!: string;
}

export class WorkerTypeLaunchErrorDto extends LaunchErrorDto {
  @ApiProperty({ example: 'builder' }) workerType!: string;
}

export class WorkerTypeCapacityCooldownDto extends CapacityCooldownDto {
  @ApiProperty({ example: 'builder', description: 'The worker type whose launch or request found the pool short' })
  workerType!: string;
}

export class LaunchHealthDto {
  @ApiProperty({
    type: [WorkerTypeLaunchCountDto],
    description:
      'Launch attempts per worker type, region, zone, instance type, lifecycle and outcome: instances over the ' +
      'last hour and day',
  })
  launches!: WorkerTypeLaunchCountDto[];
  @ApiProperty({ type: [WorkerTypeCapacityCooldownDto], description: 'Pools EC2 recently could not fill' })
  capacityCooldowns!: WorkerTypeCapacityCooldownDto[];
  @ApiProperty({ type: [QuotaCooldownDto], description: "The account's quotas in cooldown, per region and lifecycle" })
  quotaCooldowns!: QuotaCooldownDto[];
  @ApiProperty({ type: [WorkerTypeLaunchErrorDto], description: 'The last 50 failed launch attempts, newest first' })
  lastErrors!: WorkerTypeLaunchErrorDto[];
}
