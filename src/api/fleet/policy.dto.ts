import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsInt, IsNumber, Matches, Max, Min, ValidateIf } from 'class-validator';
import { INSTANCE_TYPE_PATTERN_RULE } from '../../launch-policy/instance-type-pattern';
import type { WorkerTypePolicy } from '../../state/entities';

/** Left out or `null`: no rule of the worker type's own. */
const Nullable = (): PropertyDecorator => ValidateIf((_o, v) => v !== undefined && v !== null);

/** The whole policy of a worker type (SPEC §11); PUT replaces it. */
export class WorkerTypePolicyBodyDto {
  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    example: 100,
    description:
      'At most this many instances plus open spot requests of the worker type, over every region. Every launch ' +
      'endpoint trims its count to fit (launchFleet says `trimmedByPolicy`); a one-instance launch that does not ' +
      'fit answers 409 `LimitExceeded`. Decided under a lock in Postgres, so concurrent launches on any replicas ' +
      'never exceed it together.',
  })
  @Nullable()
  @IsInt({ message: 'maxInstances must be a whole number' })
  @Min(0)
  @Max(1_000_000)
  maxInstances?: number | null;

  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    example: 24,
    description:
      "Housekeeping terminates the worker type's instances launched longer ago than this (else MAX_INSTANCE_LIFE_HOURS)",
  })
  @Nullable()
  @IsNumber({ allowNaN: false, allowInfinity: false }, { message: 'maxInstanceLifeHours must be a number' })
  @Min(0.01)
  @Max(8760)
  maxInstanceLifeHours?: number | null;

  @ApiPropertyOptional({
    type: [String],
    nullable: true,
    example: ['m5.*', 'c5.large'],
    description:
      'Instance types the worker type may launch: `*` stands for any run of characters, `?` for one. ' +
      'A launch asking for another type is refused (400, rule `policy`).',
  })
  @Nullable()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @Matches(INSTANCE_TYPE_PATTERN_RULE, {
    each: true,
    message: 'each of allowedInstanceTypes must be 1-64 characters of [a-z0-9.-*?], such as m5.*',
  })
  allowedInstanceTypes?: string[] | null;
}

export class WorkerTypePolicyDto {
  @ApiProperty({ example: 'builder' }) workerType!: string;
  @ApiProperty({ type: Number, nullable: true, example: 100 }) maxInstances!: number | null;
  @ApiProperty({ type: Number, nullable: true, example: 24 }) maxInstanceLifeHours!: number | null;
  @ApiProperty({ type: [String], nullable: true, example: ['m5.*', 'c5.large'] }) allowedInstanceTypes!:
    string[] | null;
  @ApiProperty() updated!: Date;
}

export function toPolicyDto(p: WorkerTypePolicy): WorkerTypePolicyDto {
  return {
    workerType: p.workerType,
    maxInstances: p.maxInstances,
    maxInstanceLifeHours: p.maxInstanceLifeHours,
    allowedInstanceTypes: p.allowedInstanceTypes,
    updated: p.updated,
  };
}
