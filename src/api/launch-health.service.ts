import { Injectable } from '@nestjs/common';
import { CapacityCooldownRepository } from '../state/capacity-cooldown.repository';
import { CapacityCooldown, QuotaCooldown } from '../state/entities';
import { LaunchError, LaunchHealthRepository, PoolOutcomeCount } from '../state/launch-health.repository';

/** How many failed attempts the health views show, newest first (SPEC §12). */
export const LAST_ERRORS = 50;

export interface LaunchHealth {
  /** Per (worker type, region, zone, instance type, lifecycle, outcome): instances over the last hour and day. */
  launches: PoolOutcomeCount[];
  capacityCooldowns: CapacityCooldown[];
  /** A quota is the account's: every worker type is held back by it, whichever one ran into it. */
  quotaCooldowns: QuotaCooldown[];
  lastErrors: LaunchError[];
}

/** How launches fare (SPEC §12), for one worker type or all of them. */
@Injectable()
export class LaunchHealthService {
  constructor(
    private readonly outcomes: LaunchHealthRepository,
    private readonly cooldowns: CapacityCooldownRepository,
  ) {}

  /** `workerType` null: every worker type. */
  async health(workerType: string | null): Promise<LaunchHealth> {
    const [launches, capacityCooldowns, quotaCooldowns, lastErrors] = await Promise.all([
      this.outcomes.counts(workerType),
      this.cooldowns.active(workerType === null ? {} : { workerType }),
      this.cooldowns.activeQuota(),
      this.outcomes.lastErrors(workerType, LAST_ERRORS),
    ]);
    return { launches, capacityCooldowns, quotaCooldowns, lastErrors };
  }
}
