import { Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { OurInstance } from '../ec2/ec2-rows';
import { BATCH } from '../ec2/batches';
import { Ec2Gateway } from '../ec2/ec2-gateway.service';
import { EventLogRepository } from '../state/event-log.repository';
import { InstanceRepository, NewInstance } from '../state/instance.repository';
import { Tx } from '../state/tx.service';
import { UsageRepository } from '../state/usage.repository';
import { TaggingService } from './tagging.service';

/** How long a lookup waits for others to share its DescribeInstances call. */
const WINDOW_MS = 10;
/**
 * Ids per shared call: one call's worth. The gateway asks by `instance-id` filter (an id EC2 does not
 * know yet is left out, where `InstanceIds` would refuse the whole call), and EC2 takes at most 200
 * filter values a call (FilterLimitExceeded); a fuller window would only queue a second call behind
 * the first, where flushing at 200 lets the next window's call run beside it.
 */
const MAX_IDS = BATCH.filterValues;

/**
 * What adopting an instance did: `added` to state; `foreign` (not ours); `gone` (ours, no longer live);
 * `stale` (an exit of it was logged since, so it must not come back); `unknown` (EC2 does not show it
 * yet: its API lags its events and its spot answers).
 */
export type AdoptionOutcome = 'added' | 'foreign' | 'gone' | 'stale' | 'unknown';

export interface AdoptOptions extends Omit<Adoptee, 'id'> {
  /** Why, for the log line (`state change`, `spot request fulfilled`, ...). */
  why: string;
  signal?: AbortSignal;
}

/** One instance to adopt, and what is known of it. */
export interface Adoptee {
  id: string;
  /** An exit logged at or after this time means it must not come back; default its launch time. */
  since?: Date;
  /** The row's `last_event`: how new what we know of it is; default its launch time. */
  lastEvent?: Date;
  /** Runs inside the adoption's transaction (e.g. recording the notice that brought us here). */
  after?: (m: EntityManager) => Promise<unknown>;
}

/** An instance EC2 showed live and ours, about to be written. */
interface Found {
  index: number;
  instance: OurInstance;
  row: NewInstance;
  since: Date;
  after?: (m: EntityManager) => Promise<unknown>;
}

type Waiter = { resolve(found: OurInstance | 'foreign' | undefined): void; reject(err: unknown): void };

/**
 * The one way an instance state does not know comes into it (SPEC §4.3, §5): looked up in EC2, then,
 * under the instance's event lock and unless an exit of it was logged since, upserted (which forgets its
 * fulfilled spot request) with its AMI's use and, when untagged, its record for the tagger (which tags it
 * after the commit, off this path), in one transaction. The event listener and the spot poller both adopt
 * through here.
 *
 * Lookups made within a few milliseconds of each other in one region share one DescribeInstances call:
 * a burst of launches brings one event per instance, and EC2's describe bucket would otherwise bound the
 * listener at its refill rate.
 */
@Injectable()
export class InstanceAdoption {
  private readonly log = new Logger(InstanceAdoption.name);
  private readonly queued = new Map<string, Map<string, Waiter[]>>();
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly ec2: Ec2Gateway,
    private readonly tx: Tx,
    private readonly instances: InstanceRepository,
    private readonly eventLog: EventLogRepository,
    private readonly usage: UsageRepository,
    private readonly tagging: TaggingService,
  ) {}

  async adopt(region: string, id: string, opts: AdoptOptions): Promise<AdoptionOutcome> {
    const { why, signal, ...adoptee } = opts;
    const [result] = await this.adoptMany(region, [{ id, ...adoptee }], { why, signal });
    if (result.status === 'rejected') throw result.reason;
    return result.value;
  }

  /**
   * `adopt` for several instances of one region (distinct ids): their lookups share DescribeInstances
   * calls, and what EC2 shows live and ours is written in one transaction, each instance still under
   * its event lock and unless an exit of it was logged since. Should that transaction fail, each
   * instance is tried in its own, so that one cannot cost the others. The results come back in order.
   */
  async adoptMany(
    region: string,
    adoptees: readonly Adoptee[],
    opts: { why: string; signal?: AbortSignal },
  ): Promise<PromiseSettledResult<AdoptionOutcome>[]> {
    const lookups = await Promise.allSettled(adoptees.map((a) => this.lookup(region, a.id)));
    const results: PromiseSettledResult<AdoptionOutcome>[] = [];
    const done = (value: AdoptionOutcome) => ({ status: 'fulfilled' as const, value });
    const live: Found[] = [];
    lookups.forEach((lookup, index) => {
      if (lookup.status === 'rejected') results[index] = lookup;
      else if (lookup.value === undefined) results[index] = done('unknown');
      else if (lookup.value === 'foreign') results[index] = done('foreign');
      else if (!lookup.value.row) {
        this.log.debug({
          msg: 'instance to adopt is no longer live',
          region,
          instanceId: adoptees[index].id,
          state: lookup.value.state,
          why: opts.why,
        });
        results[index] = done('gone');
      } else {
        const { since, lastEvent, after } = adoptees[index];
        const instance = lookup.value;
        const row = { ...instance.row!, lastEvent: lastEvent ?? instance.row!.lastEvent };
        live.push({ index, instance, row, since: since ?? instance.launched, after });
      }
    });
    const write = async (batch: Found[]): Promise<void> => {
      try {
        const outcomes = await this.tx.run((m) => this.insert(region, batch, opts, m));
        batch.forEach((found, i) => (results[found.index] = done(outcomes[i])));
      } catch (err) {
        if (batch.length === 1 || opts.signal?.aborted) {
          for (const found of batch) results[found.index] = { status: 'rejected', reason: err };
        } else {
          for (const found of batch) await write([found]);
        }
      }
    };
    if (live.length > 0) await write(live);
    return results;
  }

  private async insert(
    region: string,
    batch: Found[],
    opts: { why: string; signal?: AbortSignal },
    m: EntityManager,
  ): Promise<AdoptionOutcome[]> {
    await this.instances.lockForEvents(
      region,
      batch.map((f) => f.row.id),
      m,
    );
    const stale = await this.eventLog.leftSince(
      region,
      batch.map((f) => ({ id: f.row.id, since: f.since })),
      m,
    );
    opts.signal?.throwIfAborted();
    const fresh = batch.filter((f) => !stale.has(f.row.id));
    await this.instances.upsertMany(
      fresh.map((f) => f.row),
      m,
    );
    // Adopting an instance is a use of its image (SPEC §3).
    await this.usage.recordAmiUsage(
      region,
      fresh.map((f) => f.row.imageId),
      new Date(),
      m,
    );
    await this.tagging.recordUntagged(
      fresh.map((f) => f.instance),
      m,
    );
    for (const { row, after } of fresh) {
      if (after) await after(m);
      this.log.log({
        msg: 'instance adopted',
        region,
        instanceId: row.id,
        workerType: row.workerType,
        state: row.state,
        spotRequestId: row.spotRequestId,
        why: opts.why,
      });
    }
    return batch.map((f) => (stale.has(f.row.id) ? 'stale' : 'added'));
  }

  /** EC2's view of one instance: ours, `foreign`, or undefined when EC2 does not know it (yet). */
  lookup(region: string, id: string): Promise<OurInstance | 'foreign' | undefined> {
    return new Promise((resolve, reject) => {
      let ids = this.queued.get(region);
      if (!ids) {
        ids = new Map();
        this.queued.set(region, ids);
      }
      const waiters = ids.get(id) ?? [];
      waiters.push({ resolve, reject });
      ids.set(id, waiters);
      if (ids.size >= MAX_IDS) this.flush(region);
      else if (!this.timers.has(region)) {
        this.timers.set(
          region,
          setTimeout(() => this.flush(region), WINDOW_MS),
        );
      }
    });
  }

  private flush(region: string): void {
    clearTimeout(this.timers.get(region));
    this.timers.delete(region);
    const ids = this.queued.get(region);
    this.queued.delete(region);
    if (ids && ids.size > 0) void this.describe(region, ids);
  }

  private async describe(region: string, ids: Map<string, Waiter[]>): Promise<void> {
    try {
      const described = await this.ec2.describeInstances(region, [...ids.keys()]);
      const ours = new Map(described.ours.map((i) => [i.id, i]));
      const foreign = new Set(described.foreign);
      for (const [id, waiters] of ids) {
        const found = ours.get(id) ?? (foreign.has(id) ? 'foreign' : undefined);
        for (const w of waiters) w.resolve(found);
      }
    } catch (err) {
      for (const waiters of ids.values()) for (const w of waiters) w.reject(err);
    }
  }
}
