import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { JOB_NAMES } from '../../config/app-config';
import type { AmiUsage, EbsUsage, HousekeepingOutcome } from '../../state/entities';

export class PingDto {
  @ApiProperty({ example: true }) alive!: boolean;
  @ApiProperty() now!: Date;
}

export class RegionsDto {
  @ApiProperty({ type: [String], example: ['us-east-1', 'us-west-2'] }) regions!: string[];
}

export class RegionIdsDto {
  @ApiProperty({ example: 'us-east-1' }) region!: string;
  @ApiProperty({ type: [String], example: ['sir-abcd1234'] }) values!: string[];
}

export class AmiUsageDto {
  @ApiProperty({ example: 'us-east-1' }) region!: string;
  @ApiProperty({ example: 'ami-0123456789abcdef0' }) id!: string;
  @ApiProperty() lastUsed!: Date;
}

export function toAmiUsageDto(u: AmiUsage): AmiUsageDto {
  return { region: u.region, id: u.id, lastUsed: u.lastUsed };
}

export class EbsUsageDto {
  @ApiProperty({ example: 'us-east-1' }) region!: string;
  @ApiProperty({ example: 'gp3' }) volumeType!: string;
  @ApiProperty({ enum: ['active', 'unused'] }) state!: string;
  @ApiProperty() totalCount!: number;
  @ApiProperty() totalGb!: number;
  @ApiProperty() touched!: Date;
}

export function toEbsUsageDto(u: EbsUsage): EbsUsageDto {
  return {
    region: u.region,
    volumeType: u.volumeType,
    state: u.state,
    totalCount: u.totalCount,
    totalGb: u.totalGb,
    touched: u.touched,
  };
}

export class DbPoolStatsDto {
  @ApiProperty() total!: number;
  @ApiProperty() idle!: number;
  @ApiProperty() waiting!: number;
}

export class QueueStatsDto {
  @ApiProperty({ example: 'us-east-1' }) region!: string;
  @ApiProperty({ example: 'ec2-events' }) queue!: string;
  @ApiProperty({ type: Number, nullable: true, description: 'Messages waiting to be received' })
  visible!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Received, not yet deleted' }) inFlight!: number | null;
  @ApiProperty({ type: Number, nullable: true }) delayed!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Messages in the dead-letter queue' })
  deadLettered!: number | null;
  @ApiPropertyOptional({ description: 'Why the numbers are missing (e.g. the queue does not exist yet)' })
  error?: string;
}

export class TerminateInstanceResultDto {
  @ApiProperty({ example: 'shutting-down' }) current!: string;
  @ApiProperty({ example: 'running' }) previous!: string;
}

export class CancelSpotRequestResultDto {
  @ApiProperty({ example: 'cancelled' }) current!: string;
}

export class HousekeepingOutcomeDto {
  @ApiProperty({ example: 'us-east-1' }) region!: string;
  @ApiProperty() started!: Date;
  @ApiProperty() finished!: Date;
  @ApiProperty({ example: 5321 }) durationMs!: number;
  @ApiProperty({ description: 'Instances in EC2 but not in state: added' }) missingInstances!: number;
  @ApiProperty({ description: 'Open spot requests in EC2 but not in state: added' }) missingSpotRequests!: number;
  @ApiProperty({ description: 'Instances in state but not in EC2: removed' }) extraneousInstances!: number;
  @ApiProperty({ description: 'Spot requests in state but not open in EC2: removed' }) extraneousSpotRequests!: number;
  @ApiProperty({
    description: 'Instances whose state EC2 showed further along (pending in state, running in EC2): corrected',
  })
  correctedInstances!: number;
  @ApiProperty({ description: 'Instances past MAX_INSTANCE_LIFE_HOURS: terminated' }) zombiesKilled!: number;
  @ApiProperty({ description: 'Instances of ours found stopping or stopped (billing their volumes): terminated' })
  stoppedKilled!: number;
  @ApiProperty({ description: 'Instances, spot requests and volumes given their missing tags' }) tagged!: number;
  @ApiProperty({ type: String, nullable: true, description: 'Why the sweep of this region failed, if it did' })
  error!: string | null;
}

export function toHousekeepingOutcomeDto(o: HousekeepingOutcome): HousekeepingOutcomeDto {
  return {
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
  };
}

export class KeyPairDto {
  @ApiProperty({
    example: 'ec2-manager-dev:builder:5d41402',
    description:
      'The name every launch of this worker type must give as `KeyName`: `<managerId>:<workerType>:<hash>`, where ' +
      '`<hash>` is the first 7 hex digits of the SHA-256 of the first two fields of INSTANCE_PUBKEY ' +
      '(`<type> <base64>`, without the comment). It changes only when MANAGER_ID or INSTANCE_PUBKEY does.',
  })
  keyName!: string;

  @ApiProperty({
    type: [String],
    example: ['us-east-1', 'us-west-2'],
    description: 'Where it now exists: every region',
  })
  regions!: string[];
}

export class JobPassDto {
  @ApiProperty({ enum: JOB_NAMES, example: 'housekeeping' }) job!: string;
  @ApiProperty({
    enum: ['ran', 'failed', 'aborted'],
    description: '`failed`: the job threw (`error` says why); `aborted`: the replica lost the leader lock mid-way',
  })
  result!: 'ran' | 'failed' | 'aborted';
  @ApiProperty() started!: Date;
  @ApiProperty({ example: 412 }) durationMs!: number;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    description: "What the pass did (the fields of its log line), when it ran; e.g. housekeeping's counts",
    example: { regions: 3, zombiesKilled: 0, missingInstances: 2, extraneousInstances: 0, tagged: 4 },
  })
  outcome!: Record<string, unknown> | null;
  @ApiProperty({ type: String, nullable: true, example: null }) error!: string | null;
}
