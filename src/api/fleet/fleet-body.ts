import { Injectable, PipeTransform } from '@nestjs/common';
import { Reason } from '../../common/errors';
import { AppConfig } from '../../config/app-config';
import { LaunchInput, launchInput } from '../launch/launch-body';
import { validateLaunch } from '../launch/launch-validation';
import { LaunchFleetDto } from './fleet.dto';

/**
 * A launchFleet body after every rule that needs neither Postgres nor EC2. Unlike the one-instance
 * endpoints it is not refused here: the policy and the ClientToken's stored answer add their reasons,
 * and the one 400 names them all (SPEC §11).
 */
export interface FleetInput {
  workerType: string;
  raw: unknown;
  reasons: Reason[];
  /** Set when `reasons` is empty. */
  body?: LaunchFleetDto;
}

@Injectable()
export class FleetBodyPipe implements PipeTransform<LaunchInput, FleetInput> {
  constructor(private readonly config: AppConfig) {}

  transform({ workerType, body }: LaunchInput): FleetInput {
    const { reasons, launch } = validateLaunch<LaunchFleetDto>('fleet', workerType, body, this.config);
    return { workerType, raw: body, reasons, body: launch };
  }
}

/** The launchFleet body, checked into a `FleetInput` (`FleetBodyPipe`). */
export const FleetBody = (): ParameterDecorator => launchInput(FleetBodyPipe);
