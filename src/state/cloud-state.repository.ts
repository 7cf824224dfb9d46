import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import {
  CapacityCooldown,
  EbsUsage,
  FleetLaunch,
  Instance,
  JobRun,
  LaunchReservation,
  LaunchTemplateRow,
  QuotaCooldown,
  SpotPrice,
  SpotRequest,
  TerminationNotice,
} from './entities';

/** What forgetting a cloud removed. */
export interface ForgottenCloud {
  instances: number;
  spotRequests: number;
  terminationNotices: number;
  capacityCooldowns: number;
}

/**
 * The part of the state database that mirrors the cloud, as opposed to history (event log, AMI usage,
 * failed requests, terminations, launch outcomes, housekeeping outcomes) and configuration (worker-type
 * policies), which stay true whatever the cloud is now.
 */
@Injectable()
export class CloudStateRepository {
  /**
   * Forgets everything known of the cloud's present: its instances, spot requests, notices, capacity
   * cooldowns, volumes and prices, and when each job last looked at it (so that every job looks at the
   * new cloud at once instead of "ran lately"). For a cloud that is known to be new: a sandbox this
   * process just started in memory. By TRUNCATE, not DELETE: these instances did not end, they never
   * existed in the new cloud, so no termination is recorded for them (the count triggers follow a
   * truncate too). Call it before anything else uses the database: it locks the tables.
   */
  async forgetCloud(tx: EntityManager): Promise<ForgottenCloud> {
    const count = (entity: new () => object): Promise<number> => tx.getRepository(entity).count();
    const forgotten: ForgottenCloud = {
      instances: await count(Instance),
      spotRequests: await count(SpotRequest),
      terminationNotices: await count(TerminationNotice),
      capacityCooldowns: await count(CapacityCooldown),
    };
    const tables = [
      Instance,
      SpotRequest,
      TerminationNotice,
      CapacityCooldown,
      QuotaCooldown,
      EbsUsage,
      SpotPrice,
      JobRun,
      // The fleet endpoint's launch templates, its stored answers (their instances and EC2's ClientTokens
      // were in the old cloud) and reservations of launches that died with the previous process.
      LaunchTemplateRow,
      FleetLaunch,
      LaunchReservation,
    ].map((entity) => `"${tx.getRepository(entity).metadata.tableName}"`);
    await tx.query(`TRUNCATE ${tables.join(', ')}`);
    return forgotten;
  }
}
