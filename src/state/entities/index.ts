import { FailedSpotRequest } from './failed-spot-request.entity';
import { AmiUsage } from './ami-usage.entity';
import { CapacityCooldown } from './capacity-cooldown.entity';
import { CloudwatchLogEntry } from './cloudwatch-log.entity';
import { EbsUsage } from './ebs-usage.entity';
import { HousekeepingOutcome } from './housekeeping-outcome.entity';
import { Instance } from './instance.entity';
import { JobRun } from './job-run.entity';
import { OnDemandPrice } from './on-demand-price.entity';
import { PendingTag } from './pending-tag.entity';
import { SpotPrice } from './spot-price.entity';
import { SpotRequest } from './spot-request.entity';
import { Termination } from './termination.entity';
import { TerminationNotice } from './termination-notice.entity';
import { WorkerTypeCount } from './worker-type-count.entity';
import { FleetLaunch } from './fleet-launch.entity';
import { LaunchOutcome } from './launch-outcome.entity';
import { LaunchReservation } from './launch-reservation.entity';
import { LaunchTemplateRow } from './launch-template.entity';
import { QuotaCooldown } from './quota-cooldown.entity';
import { WorkerTypePolicy } from './worker-type-policy.entity';

export * from './ami-usage.entity';
export * from './capacity-cooldown.entity';
export * from './cloudwatch-log.entity';
export * from './ebs-usage.entity';
export * from './failed-spot-request.entity';
export * from './housekeeping-outcome.entity';
export * from './instance.entity';
export * from './job-run.entity';
export * from './on-demand-price.entity';
export * from './pending-tag.entity';
export * from './spot-price.entity';
export * from './spot-request.entity';
export * from './termination.entity';
export * from './termination-notice.entity';
export * from './worker-type-count.entity';
export * from './fleet-launch.entity';
export * from './launch-outcome.entity';
export * from './launch-reservation.entity';
export * from './launch-template.entity';
export * from './quota-cooldown.entity';
export * from './worker-type-policy.entity';

export const ENTITIES = [
  Instance,
  SpotRequest,
  CloudwatchLogEntry,
  AmiUsage,
  EbsUsage,
  TerminationNotice,
  CapacityCooldown,
  JobRun,
  HousekeepingOutcome,
  SpotPrice,
  FailedSpotRequest,
  WorkerTypeCount,
  Termination,
  OnDemandPrice,
  FleetLaunch,
  LaunchOutcome,
  LaunchReservation,
  LaunchTemplateRow,
  QuotaCooldown,
  WorkerTypePolicy,
  PendingTag,
];
