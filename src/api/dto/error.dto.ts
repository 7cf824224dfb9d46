import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ERROR_STATUS } from '../../common/errors';

export class ErrorDto {
  @ApiProperty({ enum: Object.keys(ERROR_STATUS), example: 'InputError' })
  code!: string;
  @ApiProperty({ example: 'invalid request: LaunchSpecification.KeyName: must be ...' })
  message!: string;
  @ApiProperty({ description: 'Also in the X-Request-Id header; quote it when reporting a problem' })
  requestId!: string;
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'For `InputError`: `reasons`, a list of `{rule, path?, message}`, one per broken rule',
  })
  details?: Record<string, unknown>;
}
