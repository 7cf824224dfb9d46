import { ApiProperty, ApiPropertyOptional, OmitType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsDefined,
  IsIn,
  IsInt,
  IsNumber,
  IsObject,
  IsPositive,
  IsString,
  Length,
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { LaunchBase, LaunchSpecificationDto } from '../dto/launch.dto';
import { IsOmittable } from '../dto/omittable';

export const CAPACITY_MODES = ['spot', 'on-demand', 'spot-then-on-demand'] as const;
export type CapacityMode = (typeof CAPACITY_MODES)[number];
export const SPOT_ALLOCATION_STRATEGIES = [
  'price-capacity-optimized',
  'capacity-optimized',
  'lowest-price',
  'diversified',
] as const;
export type SpotAllocationStrategy = (typeof SPOT_ALLOCATION_STRATEGIES)[number];
export const MAX_FLEET_COUNT = 1000;
export const MAX_CANDIDATES = 60;

const mandatory = { message: (a: { property: string }) => `${a.property} is mandatory` };

export class MetadataOptionsDto {
  @ApiPropertyOptional({
    enum: ['required', 'optional'],
    default: 'required',
    description: 'IMDSv2 only unless `optional`',
  })
  @IsOmittable()
  @IsIn(['required', 'optional'])
  HttpTokens?: 'required' | 'optional';
  @ApiPropertyOptional({ example: 2 }) @IsOmittable() @IsInt() @Min(1) @Max(64) HttpPutResponseHopLimit?: number;
  @ApiPropertyOptional({ enum: ['enabled', 'disabled'] })
  @IsOmittable()
  @IsIn(['enabled', 'disabled'])
  HttpEndpoint?: 'enabled' | 'disabled';
}

export class CreditSpecificationDto {
  @ApiProperty({ enum: ['standard', 'unlimited'] }) @IsIn(['standard', 'unlimited']) CpuCredits!: string;
}

/**
 * What every instance of the fleet shares: the launch specification of SPEC §8 without `InstanceType`,
 * `Placement` and `SubnetId` (they come from the candidates), plus `MetadataOptions`,
 * `CreditSpecification` and `InstanceInitiatedShutdownBehavior` (always `terminate`).
 */
export class FleetLaunchSpecificationDto extends OmitType(LaunchSpecificationDto, [
  'InstanceType',
  'Placement',
  'SubnetId',
] as const) {
  @ApiPropertyOptional({ type: MetadataOptionsDto, description: 'Default `{HttpTokens: required}`' })
  @IsOmittable()
  @IsObject()
  @ValidateNested()
  @Type(() => MetadataOptionsDto)
  MetadataOptions?: MetadataOptionsDto;

  @ApiPropertyOptional({ type: CreditSpecificationDto })
  @IsOmittable()
  @IsObject()
  @ValidateNested()
  @Type(() => CreditSpecificationDto)
  CreditSpecification?: CreditSpecificationDto;

  @ApiPropertyOptional({ enum: ['terminate'], description: 'Always `terminate`; any other value is refused' })
  @IsOmittable()
  @IsIn(['terminate'], { message: "InstanceInitiatedShutdownBehavior must be 'terminate'" })
  InstanceInitiatedShutdownBehavior?: 'terminate';
}

export class FleetCandidateDto {
  @ApiProperty({ example: 'm5.large' })
  @IsDefined(mandatory)
  @Matches(/^[a-z0-9-]+\.[a-z0-9-]+$/, { message: 'InstanceType must be an instance type such as m5.large' })
  InstanceType!: string;

  @ApiPropertyOptional({
    example: 'us-east-1b',
    description: 'A zone of the Region; without zone or subnet: every zone',
  })
  @IsOmittable()
  @IsString()
  @Length(1, 64)
  AvailabilityZone?: string;

  @ApiPropertyOptional({ example: 'subnet-0123456789abcdef1', description: 'Instead of a zone: a subnet (its zone)' })
  @IsOmittable()
  @Matches(/^subnet-[0-9a-f]{8,17}$/, { message: 'SubnetId must be a subnet id (subnet-...)' })
  SubnetId?: string;

  @ApiPropertyOptional({
    example: 1,
    description: 'On-demand order (lowest first): any Priority makes it `prioritized`',
  })
  @IsOmittable()
  @IsInt()
  @Min(0)
  @Max(1000)
  Priority?: number;
}

/** The body of launchFleet (SPEC §11). */
export class LaunchFleetDto extends LaunchBase {
  @ApiProperty({ example: 20, minimum: 1, maximum: MAX_FLEET_COUNT })
  @IsDefined(mandatory)
  @IsInt({ message: 'Count must be a whole number' })
  @Min(1, { message: `Count must be 1-${MAX_FLEET_COUNT}` })
  @Max(MAX_FLEET_COUNT, { message: `Count must be 1-${MAX_FLEET_COUNT}` })
  Count!: number;

  @ApiProperty({ enum: CAPACITY_MODES, example: 'spot-then-on-demand' })
  @IsDefined(mandatory)
  @IsIn(CAPACITY_MODES, { message: `Capacity must be one of ${CAPACITY_MODES.join(', ')}` })
  Capacity!: CapacityMode;

  @ApiPropertyOptional({ enum: SPOT_ALLOCATION_STRATEGIES, default: 'price-capacity-optimized' })
  @IsOmittable()
  @IsIn(SPOT_ALLOCATION_STRATEGIES, {
    message: `AllocationStrategy must be one of ${SPOT_ALLOCATION_STRATEGIES.join(', ')}`,
  })
  AllocationStrategy?: SpotAllocationStrategy;

  @ApiPropertyOptional({
    example: 0.25,
    description: 'Spot: the most to pay per instance hour (default: on-demand price)',
  })
  @IsOmittable()
  @IsNumber({ allowNaN: false, allowInfinity: false }, { message: 'MaxSpotPrice must be a positive number' })
  @IsPositive({ message: 'MaxSpotPrice must be a positive number' })
  MaxSpotPrice?: number;

  @ApiProperty({ type: [FleetCandidateDto], minItems: 1, maxItems: MAX_CANDIDATES })
  @IsDefined(mandatory)
  @IsArray()
  @ArrayMinSize(1, { message: `Candidates must list 1-${MAX_CANDIDATES} candidates` })
  @ArrayMaxSize(MAX_CANDIDATES, { message: `Candidates must list 1-${MAX_CANDIDATES} candidates` })
  @IsObject({ each: true })
  @ValidateNested({ each: true })
  @Type(() => FleetCandidateDto)
  Candidates!: FleetCandidateDto[];

  @ApiProperty({ type: FleetLaunchSpecificationDto })
  @IsDefined(mandatory)
  @IsObject()
  @ValidateNested()
  @Type(() => FleetLaunchSpecificationDto)
  LaunchSpecification!: FleetLaunchSpecificationDto;
}

export class FleetInstanceDto {
  @ApiProperty({ example: 'i-0123456789abcdef0' }) instanceId!: string;
  @ApiProperty({ example: 'm5.large' }) instanceType!: string;
  @ApiProperty({ example: 'us-east-1a' }) availabilityZone!: string;
  @ApiProperty({ enum: ['spot', 'on-demand'] }) lifecycle!: 'spot' | 'on-demand';
}

export class FleetErrorDto {
  @ApiProperty({ example: 'm5.large' }) instanceType!: string;
  @ApiProperty({ example: 'us-east-1a' }) availabilityZone!: string;
  @ApiProperty({ enum: ['spot', 'on-demand'] }) lifecycle!: 'spot' | 'on-demand';
  @ApiProperty({ example: 'InsufficientInstanceCapacity' }) code!: string;
  @ApiProperty({ example: 'There is no Spot capacity available that matches your request.' }) message!: string;
}

export class FleetSkippedDto {
  @ApiPropertyOptional({ example: 'm5.large', description: 'Absent for a quota cooldown: the whole lifecycle' })
  instanceType?: string;
  @ApiPropertyOptional({ example: 'us-east-1a' }) availabilityZone?: string;
  @ApiProperty({ enum: ['spot', 'on-demand'] }) lifecycle!: 'spot' | 'on-demand';
  @ApiProperty({ enum: ['capacity-cooldown', 'quota-cooldown'] }) reason!: 'capacity-cooldown' | 'quota-cooldown';
  @ApiProperty() until!: Date;
}

/** What launchFleet did (SPEC §11); a fleet that launched nothing still answers 200 and says why. */
export class FleetAnswerDto {
  @ApiProperty({ type: [FleetInstanceDto] }) launched!: FleetInstanceDto[];
  @ApiProperty({ type: [FleetErrorDto], description: "Each pool EC2 could not (fully) use, in EC2's words" })
  errors!: FleetErrorDto[];
  @ApiProperty({
    type: [FleetSkippedDto],
    description: 'Pools and lifecycles left out for a cooldown before EC2 was asked',
  })
  skipped!: FleetSkippedDto[];
  @ApiProperty({ example: 0, description: "How many of Count the worker type's maxInstances left no room for" })
  trimmedByPolicy!: number;
  @ApiProperty({ description: 'Whether what spot did not deliver was asked on-demand' })
  fellBackToOnDemand!: boolean;
}
