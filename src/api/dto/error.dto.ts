import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ERROR_STATUS } from '../../common/errors';

export class ReasonDto {
  @ApiProperty({
    example: 'schema',
    description:
      'The rule broken: `schema` (the shape of the body or a parameter), `region`, `key-name`, `mandatory-keys`, ' +
      "`allowed-keys`, `availability-zone`, `policy` (the worker type's policy), `client-token` (a ClientToken used " +
      'with another body), `dry-run` (EC2 refused the DryRun), `ec2` (EC2 refused the request)',
  })
  rule!: string;
  @ApiPropertyOptional({ example: 'LaunchSpecification.InstanceType', description: 'Dotted path of the field, if any' })
  path?: string;
  @ApiProperty({ example: 'InstanceType must be an instance type such as m5.large' })
  message!: string;
}

/** What an error's `details` may carry; which fields depends on the code. */
export class ErrorDetailsDto {
  @ApiPropertyOptional({ type: [ReasonDto], description: '`InputError`: one entry per broken rule' })
  reasons?: ReasonDto[];
  @ApiPropertyOptional({ example: 'ec2-manager:manage-resources:builder', description: '`InsufficientScopes`' })
  requiredScope?: string;
  @ApiPropertyOptional({ type: [String], description: '`ResourceNotFound` for a region: the configured ones' })
  regions?: string[];
  @ApiPropertyOptional({ example: 'InvalidAMIID.NotFound', description: "EC2's error code, when EC2 refused" })
  ec2Code?: string;
  @ApiPropertyOptional({ example: 'RequestLimitExceeded', description: "`ServiceUnavailable`: AWS's error code" })
  awsCode?: string;
  @ApiPropertyOptional({ example: 'us-east-1' }) region?: string;
  @ApiPropertyOptional({ example: 'DescribeKeyPairs', description: 'The AWS operation that failed' })
  operation?: string;
  @ApiPropertyOptional({ example: 10, description: "`LimitExceeded`: the worker type's maxInstances" })
  maxInstances?: number;
  @ApiPropertyOptional({
    example: 10,
    description: '`LimitExceeded`: instances, open spot requests and launches under way',
  })
  counted?: number;
  @ApiPropertyOptional({ example: 30, description: '`ServiceUnavailable`: when to try again' })
  retryAfterSeconds?: number;
}

/** Every error answer: `{code, message, requestId, details?}`. */
export class ErrorDto {
  @ApiProperty({ enum: Object.keys(ERROR_STATUS), example: 'InputError' })
  code!: string;
  @ApiProperty({ example: 'invalid request: workerType: must be 1-64 characters of [a-zA-Z0-9_-] (got "a:b")' })
  message!: string;
  @ApiProperty({
    example: '3f0e8d9c-2b7a-4c51-9e62-8a1d4b7c6e15',
    description: 'Also in the X-Request-Id header; quote it when reporting a problem',
  })
  requestId!: string;
  @ApiPropertyOptional({ type: ErrorDetailsDto })
  details?: ErrorDetailsDto;
}
