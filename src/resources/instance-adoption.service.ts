import { Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { OurInstance } from '../ec2/ec2-rows';
import { Ec2Gateway } from '../ec2/ec2-gateway.service';
import { EventLogRepository } from '../state/event-log.repository';
import { InstanceRepository } from '../state/instance.repository';
import { Tx } from '../state/tx.service';
import { UsageRepository } from '../state/usage.repository';
import { TaggingService } from './tagging.service';

/** How long a lookup waits for others to share its DescribeInstances call. */
const WINDOW_MS = 10;
/** Ids per shared call (the gateway's batch for an `instance-id` filter). */
const MAX_IDS = 200;

/**
 * What adopting an instance did: `added` to state; `foreign` (not ours); `gone` (ours, no longer live);
 * `stale` (an exit of it was logged since, so it must not come back); `unknown` (EC2 does not show it
 * yet: its API lags its events and its spot answers).
 */
export type AdoptionOutcome = 'added' | 'foreign' | 'gone' | 'stale' | 'unknown';

export interface AdoptOptions {
  /** Why, for the log line (`state change`, `spot request fulfilled`, ...). */
  why: string;
  /** An exit logged at or after this time means it must not come back; default its launch time. */
  since?: Date;
  /** The row's `last_event`: how new what we know of it is; default its launch time. */
  lastEvent?: Date;
  /** Runs inside the adoption's transaction (e.g. recording the notice that brought us here). */
  after?: (m: EntityManager) => Promise<unknown>;
  signal?: AbortSignal;
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
    const found = await this.lookup(region, id);
    if (found === undefined) return 'unknown';
    if (found === 'foreign') return 'foreign';
    if (!found.row) {
      this.log.debug({
        msg: 'instance to adopt is no longer live',
        region,
        instanceId: id,
        state: found.state,
        why: opts.why,
      });
      return 'gone';
    }
    const since = opts.since ?? found.launched;
    const row = { ...found.row, lastEvent: opts.lastEvent ?? found.row.lastEvent };
    return this.tx.run(async (m) => {
      await this.instances.lockForEvents(region, id, m);
      if (await this.eventLog.hasLeftSince(region, id, since, m)) return 'stale';
      opts.signal?.throwIfAborted();
      await this.instances.upsert(row, m);
      // Adopting an instance is a use of its image (SPEC §3).
      await this.usage.recordAmiUsage(region, [row.imageId], new Date(), m);
      await this.tagging.recordUntagged(found, m);
      if (opts.after) await opts.after(m);
      this.log.log({
        msg: 'instance adopted',
        region,
        instanceId: id,
        workerType: row.workerType,
        state: row.state,
        spotRequestId: row.spotRequestId,
        why: opts.why,
      });
      return 'added';
    });
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
