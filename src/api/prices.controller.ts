import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiBody, ApiExtraModels, ApiOkResponse, ApiTags, getSchemaPath } from '@nestjs/swagger';
import { PriceCache } from '../prices/price-cache.service';
import { PriceSync } from '../prices/price-sync.service';
import {
  PriceEntryDto,
  PriceRestrictionsDto,
  RestrictionDto,
  RestrictionsPipe,
  toPriceEntryDto,
  toRestriction,
} from './dto/prices.dto';
import { Endpoint } from './endpoint.decorator';

const NOT_YET = 'no pricing poll has completed yet (prices are kept in the database: this happens only on a new one)';

@ApiTags('prices')
@Controller('v1/prices')
export class PricesController {
  constructor(
    private readonly prices: PriceCache,
    private readonly sync: PriceSync,
  ) {}

  @Get()
  @Endpoint({
    operationId: 'getPrices',
    summary: 'Spot and on-demand prices per zone and instance type, cheapest first',
    description:
      'The highest Linux/UNIX spot price of each pool over the pricing window (`type: spot`), and beside it the ' +
      "pool's Linux shared-tenancy on-demand price from the AWS Price List (`type: on-demand`, refreshed daily).",
    unavailable: NOT_YET,
  })
  @ApiOkResponse({ type: [PriceEntryDto] })
  async list(): Promise<PriceEntryDto[]> {
    await this.sync.fresh();
    return this.prices.list().map(toPriceEntryDto);
  }

  @Post()
  @HttpCode(200)
  @Endpoint({
    operationId: 'getSpecificPrices',
    summary: 'Spot and on-demand prices meeting every restriction, cheapest first',
    unavailable: NOT_YET,
  })
  @ApiBody({
    description: 'A list of `{key, restriction}`; `{restrictions: [...]}` is accepted too. All must hold.',
    schema: {
      oneOf: [
        { type: 'array', items: { $ref: getSchemaPath(RestrictionDto) }, maxItems: 100 },
        { $ref: getSchemaPath(PriceRestrictionsDto) },
      ],
    },
    examples: {
      list: {
        summary: 'us-east-1, m5.large or c5.large, at most 0.1',
        value: [
          { key: 'region', restriction: 'us-east-1' },
          { key: 'instanceType', restriction: ['m5.large', 'c5.large'] },
          { key: 'maxPrice', restriction: 0.1 },
        ],
      },
      onDemand: {
        summary: 'on-demand prices of m5.large in us-west-2',
        value: [
          { key: 'type', restriction: 'on-demand' },
          { key: 'region', restriction: 'us-west-2' },
          { key: 'instanceType', restriction: 'm5.large' },
        ],
      },
    },
  })
  @ApiExtraModels(RestrictionDto, PriceRestrictionsDto)
  @ApiOkResponse({ type: [PriceEntryDto] })
  async filtered(@Body(RestrictionsPipe) restrictions: RestrictionDto[]): Promise<PriceEntryDto[]> {
    await this.sync.fresh();
    return this.prices.filtered(restrictions.map(toRestriction)).map(toPriceEntryDto);
  }
}
