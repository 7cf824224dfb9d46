import { CreateStateTables1764000000000 } from './1764000000000-CreateStateTables';
import { CreateJobTables1764100000000 } from './1764100000000-CreateJobTables';
import { CreateSpotPrices1764200000000 } from './1764200000000-CreateSpotPrices';
import { CreateFailedSpotRequests1764300000000 } from './1764300000000-CreateFailedSpotRequests';
import { CreateFleetTables1765500000000 } from './1765500000000-CreateFleetTables';
import { AddHousekeepingCorrected1765200000000 } from './1765200000000-AddHousekeepingCorrected';
import { CreateTerminations1765600000000 } from './1765600000000-CreateTerminations';
import { AddJobLastSucceeded1765300000000 } from './1765300000000-AddJobLastSucceeded';
import { IndexCloudwatchLogReceived1765300000001 } from './1765300000001-IndexCloudwatchLogReceived';
import { CreateWorkerTypeCounts1765700000000 } from './1765700000000-CreateWorkerTypeCounts';
import { AddHousekeepingStoppedKilled1765100000000 } from './1765100000000-AddHousekeepingStoppedKilled';
import { CreatePendingTags1765900000000 } from './1765900000000-CreatePendingTags';

/** Every migration, in order. A merged migration is never edited: add a new one. */
export const MIGRATIONS = [
  CreateStateTables1764000000000,
  CreateJobTables1764100000000,
  CreateSpotPrices1764200000000,
  CreateFailedSpotRequests1764300000000,
  AddHousekeepingCorrected1765200000000,
  CreateFleetTables1765500000000,
  CreateWorkerTypeCounts1765700000000,
  CreateTerminations1765600000000,
  AddHousekeepingStoppedKilled1765100000000,
  AddJobLastSucceeded1765300000000,
  IndexCloudwatchLogReceived1765300000001,
  CreatePendingTags1765900000000,
];
