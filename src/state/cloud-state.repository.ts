import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { CapacityCooldown, EbsUsage, Instance, JobRun, SpotPrice, SpotRequest, TerminationNotice } from './entities';

/** What forgetting a cloud removed. */
export interface ForgottenCloud {
  instances: number;
  spotRequests: number;
  terminationNotices: number;
  capacityCooldowns: number;
}

/**
 * The part of the state database that mirrors the cloud, as opposed to history (event log, AMI usage,
 * failed requests, housekeeping outcomes), which stays true of the past whatever the cloud is now.
 */
@Injectable()
export class CloudStateRepository {
  /**
   * Forgets everything known of the cloud's present: its instances, spot requests, notices, capacity
   * cooldowns, volumes and prices, and when each job last looked at it (so that every job looks at the
   * new cloud at once instead of "ran lately"). For a cloud that is known to be new: a sandbox this
   * process just started in memory. Rows go by DELETE, so the count triggers follow.
   */
  async forgetCloud(tx: EntityManager): Promise<ForgottenCloud> {
    const remove = async (entity: new () => object): Promise<number> =>
      (await tx.createQueryBuilder().delete().from(entity).execute()).affected ?? 0;
    const terminationNotices = await remove(TerminationNotice);
    const forgotten: ForgottenCloud = {
      instances: await remove(Instance),
      spotRequests: await remove(SpotRequest),
      terminationNotices,
      capacityCooldowns: await remove(CapacityCooldown),
    };
    await remove(EbsUsage);
    await remove(SpotPrice);
    await remove(JobRun);
    return forgotten;
  }
}
