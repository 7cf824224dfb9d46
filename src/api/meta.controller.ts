import { Controller, Get, Redirect } from '@nestjs/common';
import { ApiExcludeController, ApiOkResponse, ApiTags } from '@nestjs/swagger';
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

/** `GET /` is where a person lands first: Swagger UI explains the rest. */
@ApiExcludeController()
@Controller()
export class RootController {
  @Get()
  @Redirect('/api', 302)
  root(): void {}
}
