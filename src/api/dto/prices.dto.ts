import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { plainToInstance, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsObject,
  ValidateBy,
  ValidateNested,
  ValidationArguments,
  validateSync,
} from 'class-validator';
import { InputError } from '../../common/errors';
import {
  PRICE_TYPES,
  PriceEntry,
  PriceType,
  Restriction,
  RESTRICTION_KEYS,
  RestrictionKey,
} from '../../prices/price-cache.service';
import { validationReasons } from '../validation';

const TEXT_KEYS: readonly string[] = ['instanceType', 'region', 'zone', 'type'];

export class CapacityCooldownInfoDto {
  @ApiProperty() until!: Date;
  @ApiProperty({ example: 'capacity-not-available' }) reason!: string;
}

export class PriceEntryDto {
  @ApiProperty({ example: 'us-east-1' }) region!: string;
  @ApiProperty({ example: 'us-east-1a' }) zone!: string;
  @ApiProperty({ example: 'm5.large' }) instanceType!: string;
  @ApiProperty({
    example: 0.0312,
    description:
      'USD per hour: for `spot`, the highest spot price of the window; for `on-demand`, the Linux shared-tenancy ' +
      'on-demand price of the type in the region (AWS Price List, refreshed daily)',
  })
  price!: number;
  @ApiProperty({ enum: PRICE_TYPES, example: 'spot' }) type!: PriceType;
  @ApiPropertyOptional({
    type: CapacityCooldownInfoDto,
    description: 'Present while EC2 has recently had no spot capacity in this pool: do not ask for it before `until`',
  })
  capacityCooldown?: CapacityCooldownInfoDto;
  @ApiPropertyOptional({
    type: CapacityCooldownInfoDto,
    description:
      "Present while the account's spot quota in this region is used up (EC2 answered e.g. MaxSpotInstanceCountExceeded): no spot pool of the region launches before `until`",
  })
  quotaCooldown?: CapacityCooldownInfoDto;
}

function numeric(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(value)) return Number(value);
  return undefined;
}

function validRestriction(value: unknown, args: ValidationArguments): boolean {
  const key = (args.object as { key?: unknown }).key;
  if (typeof key !== 'string' || !(RESTRICTION_KEYS as readonly string[]).includes(key)) return true; // key's own error
  if (TEXT_KEYS.includes(key)) {
    if (typeof value === 'string') return value.length > 0 && value.length <= 256;
    return (
      Array.isArray(value) &&
      value.length > 0 &&
      value.length <= 1000 &&
      value.every((v) => typeof v === 'string' && v.length > 0 && v.length <= 256)
    );
  }
  const n = numeric(value);
  return n !== undefined && n >= 0;
}

export class RestrictionDto {
  @ApiProperty({ enum: RESTRICTION_KEYS, example: 'instanceType' })
  @IsIn(RESTRICTION_KEYS, { message: `key must be one of ${RESTRICTION_KEYS.join(', ')}` })
  key!: RestrictionKey;

  @ApiProperty({
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }, { type: 'number' }],
    example: ['m5.large', 'c5.large'],
    description:
      '`instanceType`, `region`, `zone`, `type`: a string or a list of strings (any match). ' +
      '`price` (exact), `minPrice`, `maxPrice`: a number >= 0 or a numeric string.',
  })
  @ValidateBy({
    name: 'isRestrictionValue',
    validator: {
      validate: validRestriction,
      defaultMessage: () =>
        'restriction must be a string or non-empty list of strings for instanceType/region/zone/type, ' +
        'a number >= 0 (or numeric string) for price/minPrice/maxPrice',
    },
  })
  restriction!: string | string[] | number;
}

export class PriceRestrictionsDto {
  @ApiProperty({
    type: [RestrictionDto],
    description: 'All must hold. An empty list returns every price.',
    example: [
      { key: 'region', restriction: 'us-east-1' },
      { key: 'instanceType', restriction: ['m5.large', 'c5.large'] },
      { key: 'maxPrice', restriction: 0.1 },
    ],
  })
  @IsArray()
  @ArrayMaxSize(100)
  @ValidateNested({ each: true })
  @IsObject({ each: true })
  @Type(() => RestrictionDto)
  restrictions!: RestrictionDto[];
}

export function toRestriction(dto: RestrictionDto): Restriction {
  switch (dto.key) {
    case 'instanceType':
    case 'region':
    case 'zone':
    case 'type':
      return {
        key: dto.key,
        restriction: Array.isArray(dto.restriction) ? dto.restriction : [String(dto.restriction)],
      };
    case 'price':
    case 'minPrice':
    case 'maxPrice':
      return { key: dto.key, restriction: numeric(dto.restriction) as number };
  }
}

export const toPriceEntryDto = (e: PriceEntry): PriceEntryDto => ({ ...e });

/**
 * The restrictions of `POST /v1/prices`: the list SPEC §7 describes, or `{restrictions: [...]}`. Every
 * broken rule is named (`[1].key`, or `restrictions[1].key` in the object form).
 */
export function parseRestrictions(body: unknown): RestrictionDto[] {
  const listForm = Array.isArray(body);
  const wrapped: unknown = listForm ? { restrictions: body } : body;
  if (typeof wrapped !== 'object' || wrapped === null) {
    throw InputError.of([{ rule: 'schema', message: 'the body must be a list of {key, restriction}' }]);
  }
  const dto = plainToInstance(PriceRestrictionsDto, wrapped);
  const errors = validateSync(dto, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true });
  if (errors.length > 0) {
    const reasons = validationReasons(errors);
    throw InputError.of(
      listForm
        ? reasons.map((r) => ({ ...r, path: r.path?.replace(/^restrictions(?=\[|$)/, '') || undefined }))
        : reasons,
    );
  }
  return dto.restrictions;
}

/**
 * The body of `POST /v1/prices` as `RestrictionDto[]`. A pipe of its own: the two accepted forms are not
 * one class the global ValidationPipe could check (it leaves an array-typed parameter alone).
 */
export const RestrictionsPipe = { transform: parseRestrictions };
