import {
  ArgumentMetadata,
  createParamDecorator,
  ExecutionContext,
  Injectable,
  Logger,
  PipeTransform,
} from '@nestjs/common';
import { InputError } from '../../common/errors';
import { AppConfig } from '../../config/app-config';
import { RequestSpotInstanceDto, RunInstanceDto } from '../dto/launch.dto';
import type { HttpRequest } from '../http-types';
import { LaunchKind, validateLaunch } from './launch-validation';

/** The key-name rule needs the worker type of the path beside the body. */
export interface LaunchInput {
  workerType: string;
  body: unknown;
}

const KINDS = new Map<unknown, LaunchKind>([
  [RequestSpotInstanceDto, 'spot-request'],
  [RunInstanceDto, 'instance'],
]);

/**
 * Turns a launch body into its DTO after every rule of SPEC §8 that needs no EC2 (see `validateLaunch`),
 * so the handler gets a checked `RequestSpotInstanceDto` or `RunInstanceDto`, chosen by the parameter's
 * type. One pass names every broken rule, which the global ValidationPipe (schema only, no worker type,
 * no configured regions) could not.
 */
@Injectable()
export class LaunchBodyPipe implements PipeTransform<LaunchInput, RequestSpotInstanceDto | RunInstanceDto> {
  private readonly log = new Logger(LaunchBodyPipe.name);

  constructor(private readonly config: AppConfig) {}

  transform(
    { workerType, body }: LaunchInput,
    { metatype }: ArgumentMetadata,
  ): RequestSpotInstanceDto | RunInstanceDto {
    const kind = KINDS.get(metatype);
    if (!kind) throw new Error(`@LaunchBody() needs a parameter typed RequestSpotInstanceDto or RunInstanceDto`);
    const { reasons, launch } = validateLaunch<RequestSpotInstanceDto | RunInstanceDto>(
      kind,
      workerType,
      body,
      this.config,
    );
    if (!launch) {
      this.log.log({ msg: 'launch refused', workerType, kind, rules: [...new Set(reasons.map((r) => r.rule))] });
      throw InputError.of(reasons);
    }
    return launch;
  }
}

export const launchInput = createParamDecorator((_data: unknown, ctx: ExecutionContext): LaunchInput => {
  const req = ctx.switchToHttp().getRequest<HttpRequest & { body?: unknown }>();
  return { workerType: req.params.workerType ?? '', body: req.body };
});

/** The request body of a launch endpoint, validated into the parameter's DTO type (`LaunchBodyPipe`). */
export const LaunchBody = (): ParameterDecorator => launchInput(LaunchBodyPipe);
