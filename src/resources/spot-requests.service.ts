import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { CancelOutcome, Ec2Gateway, MutationOptions, Owned } from '../ec2/ec2-gateway.service';
import { CapacityCooldownRepository, NewCapacityCooldown } from '../state/capacity-cooldown.repository';
import { POLLED_SPOT_STATUSES } from '../state/entities';
import { FailedSpotRequestRepository, NewFailedSpotRequest } from '../state/failed-spot-request.repository';
import { SpotRequestRepository } from '../state/spot-request.repository';
import { Tx } from '../state/tx.service';

/** Statuses that say EC2 has no room in the pool: the pool goes into a cooldown (SPEC §5). */
export const CAPACITY_STATUSES = ['capacity-not-available', 'capacity-oversubscribed'];

/** An open request with this status may still be fulfilled; any other open one never will be (SPEC §5). */
export function isWaiting(status: string | undefined): boolean {
  return (POLLED_SPOT_STATUSES as readonly string[]).includes(status ?? '');
}

/** A request of ours given up on, as workerTypeHealth shows it. */
export type GivenUp = NewFailedSpotRequest;

export interface GiveUpOutcome {
  cancelled: string[];
  /** EC2 did not know them: not cancelled, still in state (the poller's grace decides). */
  unknown: string[];
  cooldowns: number;
}

/**
 * Spot requests of ours, in EC2 and state together: cancelling them (a request leaves state only once
 * EC2 accepted its cancellation), remembering the ones given up on or failed (workerTypeHealth), and
 * the capacity cooldowns of their pools. The API, the spot poller and housekeeping all come here.
 */
@Injectable()
export class SpotRequestService {
  private readonly log = new Logger(SpotRequestService.name);

  constructor(
    private readonly config: AppConfig,
    private readonly ec2: Ec2Gateway,
    private readonly tx: Tx,
    private readonly requests: SpotRequestRepository,
    private readonly failures: FailedSpotRequestRepository,
    private readonly cooldowns: CapacityCooldownRepository,
  ) {}

  /** Cancels requests someone asked to be rid of. */
  async cancel(region: string, requests: readonly Owned[], opts: MutationOptions = {}): Promise<CancelOutcome> {
    const outcome = await this.ec2.cancelSpotRequests(region, requests, opts);
    opts.signal?.throwIfAborted();
    await this.requests.removeMany(
      region,
      outcome.cancelled.map((c) => c.id),
    );
    return outcome;
  }

  /**
   * Gives up on open requests EC2 will never fulfil (price, capacity, parameters...): cancels them,
   * remembers them, and puts the pools of those refused for capacity into a cooldown, so provisioners
   * stop asking for what EC2 cannot give.
   */
  async giveUp(region: string, requests: readonly GivenUp[], opts: MutationOptions = {}): Promise<GiveUpOutcome> {
    if (requests.length === 0) return { cancelled: [], unknown: [], cooldowns: 0 };
    const outcome = await this.ec2.cancelSpotRequests(region, requests, opts);
    const done = new Set(outcome.cancelled.map((c) => c.id));
    const given = requests.filter((r) => done.has(r.id));
    const cooldowns: NewCapacityCooldown[] = given
      .filter((r) => CAPACITY_STATUSES.includes(r.status))
      .map((r) => ({
        region,
        az: r.az || '*',
        instanceType: r.instanceType || 'unknown',
        lifecycle: 'spot',
        reason: r.status,
        workerType: r.workerType,
        spotRequestId: r.id,
      }));
    opts.signal?.throwIfAborted();
    await this.tx.run(async (m) => {
      await this.requests.removeMany(region, [...done], m);
      await this.failures.record(given, m);
      if (cooldowns.length > 0) await this.cooldowns.record(cooldowns, this.config.capacityCooldownSeconds, m);
    });
    for (const r of given) {
      this.log.log({ msg: 'cancelled spot request', region, spotRequestId: r.id, status: r.status });
    }
    if (cooldowns.length > 0) {
      this.log.warn({
        msg: 'spot pools in capacity cooldown',
        region,
        pools: cooldowns.map((c) => `${c.az}/${c.instanceType}`),
      });
    }
    return { cancelled: [...done], unknown: outcome.unknown, cooldowns: cooldowns.length };
  }

  /** Remembers requests EC2 failed on its own (state `failed`). */
  async recordFailed(requests: readonly GivenUp[], opts: MutationOptions = {}): Promise<void> {
    if (requests.length === 0) return;
    opts.signal?.throwIfAborted();
    await this.failures.record([...requests]);
  }
}
