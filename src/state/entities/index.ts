import { AmiUsage } from './ami-usage.entity';
import { CloudwatchLogEntry } from './cloudwatch-log.entity';
import { EbsUsage } from './ebs-usage.entity';
import { Instance } from './instance.entity';
import { SpotRequest } from './spot-request.entity';
import { TerminationNotice } from './termination-notice.entity';

export * from './ami-usage.entity';
export * from './cloudwatch-log.entity';
export * from './ebs-usage.entity';
export * from './instance.entity';
export * from './spot-request.entity';
export * from './termination-notice.entity';

export const ENTITIES = [Instance, SpotRequest, CloudwatchLogEntry, AmiUsage, EbsUsage, TerminationNotice];
