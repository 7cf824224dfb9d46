import { Injectable, PipeTransform } from '@nestjs/common';
import { isValidWorkerType, WORKER_TYPE_PATTERN } from '../ec2/naming';
import { InputError, ResourceNotFoundError } from '../common/errors';
import { AppConfig } from '../config/app-config';

export const INSTANCE_ID = /^i-([0-9a-f]{8}|[0-9a-f]{17})$/;
export const SPOT_REQUEST_ID = /^sir-[0-9a-z]{8,16}$/;

function pattern(name: string, re: RegExp, expected: string): PipeTransform<string, string> {
  return {
    transform(value: string): string {
      if (!re.test(value)) {
        throw InputError.of([
          { rule: 'schema', path: name, message: `must be ${expected} (got ${JSON.stringify(value)})` },
        ]);
      }
      return value;
    },
  };
}

/** The OpenAPI description of a `:workerType` path parameter. */
export const WORKER_TYPE_PARAM = {
  name: 'workerType',
  example: 'builder',
  description: '1-64 characters of [a-zA-Z0-9_-]',
  schema: { type: 'string' as const, pattern: WORKER_TYPE_PATTERN.source },
};

export const WorkerTypePipe = {
  transform(value: string): string {
    if (!isValidWorkerType(value)) {
      throw InputError.of([
        {
          rule: 'schema',
          path: 'workerType',
          message: `must be 1-64 characters of [a-zA-Z0-9_-] (got ${JSON.stringify(value)})`,
        },
      ]);
    }
    return value;
  },
};
export const InstanceIdPipe = pattern('id', INSTANCE_ID, 'an instance id (i-...)');
export const SpotRequestIdPipe = pattern('id', SPOT_REQUEST_ID, 'a spot instance request id (sir-...)');

/** A region outside the configured list does not exist for this service (SPEC §2): 404. */
@Injectable()
export class RegionPipe implements PipeTransform<string, string> {
  constructor(private readonly config: AppConfig) {}

  transform(value: string): string {
    if (!this.config.regions.includes(value)) {
      throw new ResourceNotFoundError(`region ${value} is not one of this service's regions`, {
        regions: this.config.regions,
      });
    }
    return value;
  }
}
