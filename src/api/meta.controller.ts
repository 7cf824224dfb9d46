import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { PingDto } from './dto/internal.dto';
import { Endpoint } from './endpoint.decorator';

@ApiTags('service')
@Controller('v1')
export class MetaController {
  @Get('ping')
  @Endpoint({ operationId: 'ping', summary: 'Liveness for humans (probes use /health/live)' })
  @ApiOkResponse({ type: PingDto })
  ping(): PingDto {
    return { alive: true, now: new Date() };
  }
}
