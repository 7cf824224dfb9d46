import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { PriceCache } from '../pricing/price-cache.service';
import { ErrorDto } from './dto/error.dto';
import { PriceEntryDto, PriceRestrictionsDto, toPriceEntryDto, toRestriction } from './dto/prices.dto';
import { Endpoint } from './endpoint.decorator';

const NOT_YET = { type: ErrorDto, description: '`ServiceUnavailable`: the first pricing poll has not completed' };

@ApiTags('prices')
@Controller('v1/prices')
export class PricesController {
  constructor(private readonly prices: PriceCache) {}

  @Get()
  @Endpoint({
    operationId: 'getPrices',
    summary: 'Spot prices per zone and instance type, cheapest first',
    description: 'The highest Linux/UNIX spot price of each pool over the pricing window.',
  })
  @ApiOkResponse({ type: [PriceEntryDto] })
  @ApiServiceUnavailableResponse(NOT_YET)
  list(): PriceEntryDto[] {
    return this.prices.list().map(toPriceEntryDto);
  }

  @Post()
  @HttpCode(200)
  @Endpoint({ operationId: 'getSpecificPrices', summary: 'Spot prices meeting every restriction, cheapest first' })
  @ApiOkResponse({ type: [PriceEntryDto] })
  @ApiServiceUnavailableResponse(NOT_YET)
  filtered(@Body() body: PriceRestrictionsDto): PriceEntryDto[] {
    return this.prices.filtered(body.restrictions.map(toRestriction)).map(toPriceEntryDto);
  }
}
