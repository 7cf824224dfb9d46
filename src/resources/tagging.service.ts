import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { awsErrorCode } from '../aws/aws-error';
import { Ec2Gateway, MutationOptions, TagOutcome } from '../ec2/ec2-gateway.service';
import { inBackground } from '../ec2/ec2-call-context';
import { isUnreachable } from '../ec2/ec2-errors';
import type { OurInstance } from '../ec2/ec2-rows';
import { reportError } from '../logging/report';
import { Metrics } from '../metrics/metrics.service';
import { BackOff, PendingTagClaim, PendingTagRepository } from '../state/pending-tag.repository';
import { Tx } from '../state/tx.service';

/** Rows one claim takes; the gateway splits a worker type's share into CreateTags calls of ≤ 1000. */
const CLAIM_LIMIT = 5000;
/**
 * How long a claim keeps its rows from other claimers: longer than a CreateTags call with its retries and
 * rate-limit waits normally takes. A claimer that dies delays its rows this long; one slower than this
 * may see them tagged twice by another replica, which is harmless (CreateTags is idempotent).
 */
const LEASE_SECONDS = 60;
/** Failed calls are tried again after 1, 2, 4 ... seconds, at most five minutes (with jitter). */
const BACK_OFF: BackOff = { baseSeconds: 1, maxSeconds: 300 };
/** Every replica looks for due rows this often: retries, leases run out, rows of a replica that died. */
const SWEEP_MS = 5000;
/**
 * Commits within this window after a kick share one claim and so one CreateTags call: at a few hundred
 * adoptions a second, a few calls a second, well inside EC2's CreateTags refill (10/s), for tags at most
 * this much later.
 */
const KICK_DELAY_MS = 200;

/** What one drain did. */
export interface TagPass {
  tagged: number;
  /** EC2 no longer knows them (terminated meanwhile): forgotten. */
  gone: number;
  /** Their call failed (throttled, EC2 unreachable, ...): tried again after a back-off. */
  retried: number;
}

/**
 * Tagging off the event path (SPEC §2, issue #15). An instance found untagged enters state at once; what
 * lacks tags (the instance and its volumes) is recorded in the same transaction (`recordUntagged`), so a
 * process killed after the commit loses nothing. After the commit the tagger drains those rows: claimed
 * (a lease, safe with several replicas), CreateTags per (region, worker type) with up to 1000 ids a call,
 * forgotten once tagged or gone; a failed call is retried with a back-off and never holds up state. Every
 * replica drains what it recorded right after the commit and sweeps every few seconds for the rest.
 *
 * `tag` is the one way the service tags what it found untagged: housekeeping and the terminate paths use
 * it too, and it forgets what it tagged from the waiting list.
 */
@Injectable()
export class TaggingService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger(TaggingService.name);
  private readonly abort = new AbortController();
  private sweep?: NodeJS.Timeout;
  private kicked?: NodeJS.Timeout;
  private running: Promise<void> | null = null;
  private again = false;
  /** Whether the last claim failed: an outage is logged when it starts and when it ends, not every sweep. */
  private claimsFailing = false;

  constructor(
    private readonly ec2: Ec2Gateway,
    private readonly tx: Tx,
    private readonly pending: PendingTagRepository,
    private readonly metrics: Metrics,
  ) {}

  onApplicationBootstrap(): void {
    this.sweep = setInterval(() => this.kick(), SWEEP_MS);
    this.sweep.unref();
    // What a previous process recorded and did not tag.
    this.kick();
  }

  /** Stops draining: a call in flight is aborted and its rows released for whoever claims next. */
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.sweep);
    clearTimeout(this.kicked);
    this.abort.abort(new Error('shutting down'));
    await this.running;
  }

  /**
   * Records, in the adoption's transaction `m` (one of `Tx.run`), that these instances and their volumes
   * lack their tags; the tagger is woken when it commits. Tagged instances are left out.
   */
  async recordUntagged(instances: OurInstance | readonly OurInstance[], m: EntityManager): Promise<void> {
    const list: readonly OurInstance[] = 'id' in instances ? [instances] : instances;
    const untagged = list.filter((i) => !i.tagged);
    if (untagged.length === 0) return;
    await this.pending.add(
      untagged.flatMap(({ region, workerType, id, volumeIds }) =>
        [id, ...volumeIds].map((resourceId) => ({ region, resourceId, workerType })),
      ),
      m,
    );
    this.tx.afterCommit(m, () => this.kick());
  }

  /** Drains due rows soon (commits close together share one claim); one drain at a time per replica. */
  kick(): void {
    if (this.abort.signal.aborted) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.kicked ??= setTimeout(() => {
      this.kicked = undefined;
      this.start();
    }, KICK_DELAY_MS);
  }

  private start(): void {
    if (this.running || this.abort.signal.aborted) return;
    this.again = false;
    this.running = inBackground(() =>
      this.drain().then(
        () => {
          if (this.claimsFailing) this.log.log({ msg: 'claiming resources to tag works again' });
          this.claimsFailing = false;
        },
        (err: unknown) => {
          // The database is down, most likely: the sweep tries again.
          if (this.abort.signal.aborted || this.claimsFailing) return;
          this.claimsFailing = true;
          this.log.warn({ msg: 'claiming resources to tag failed; trying again every sweep', err });
        },
      ),
    ).finally(() => {
      this.running = null;
      // Commits made meanwhile: after the window again, so that they share a call.
      if (this.again) this.kick();
    });
  }

  /**
   * Claims due rows and tags them, claim after claim while claims come back full; returns what it did.
   * Runs beside other replicas' drains (each claims its own rows). Public for tests; the service calls it
   * itself. Throws only when a claim fails (or on shutdown): a failed CreateTags is retried later.
   */
  async drain(): Promise<TagPass> {
    const pass: TagPass = { tagged: 0, gone: 0, retried: 0 };
    const signal = this.abort.signal;
    for (;;) {
      signal.throwIfAborted();
      const claims = await this.pending.claimDue(CLAIM_LIMIT, LEASE_SECONDS);
      if (claims.length === 0) return pass;
      const groups = groupBy(claims, (c) => c.region);
      // Regions have buckets of their own: in parallel; within a region, one worker type after another.
      await Promise.all(
        [...groups.values()].map(async (ofRegion) => {
          for (const group of groupBy(ofRegion, (c) => c.workerType).values()) {
            const done = await this.tagClaimed(group, signal);
            pass.tagged += done.tagged;
            pass.gone += done.gone;
            pass.retried += done.retried;
          }
        }),
      );
      if (claims.length < CLAIM_LIMIT) return pass;
    }
  }

  /** One (region, worker type) share of a claim; never throws but when shutting down. */
  private async tagClaimed(claims: PendingTagClaim[], signal: AbortSignal): Promise<TagPass> {
    const { region, workerType } = claims[0];
    const ids = claims.map((c) => c.resourceId);
    try {
      const out = await this.tag(region, workerType, ids, { signal });
      const now = Date.now();
      const tagged = new Set(out.tagged);
      for (const c of claims) {
        if (tagged.has(c.resourceId)) this.metrics.taggingDelay.observe({ region }, (now - c.since.getTime()) / 1000);
      }
      return { tagged: out.tagged.length, gone: out.unknown.length, retried: 0 };
    } catch (err) {
      if (signal.aborted) {
        // Shutting down, the database still open: whoever claims next need not wait out the lease.
        await this.pending.release(region, ids).catch(() => undefined);
        throw err;
      }
      const attempts = Math.max(...claims.map((c) => c.attempts));
      const quiet = awsErrorCode(err) === 'RequestLimitExceeded' || isUnreachable(err);
      this.log.warn({
        msg: 'tagging resources failed, trying again later',
        region,
        workerType,
        resources: ids.length,
        attempts,
        err,
      });
      if (!quiet) reportError(err, { tags: { stage: 'tag-resources', region }, extra: { workerType, attempts } });
      this.metrics.taggedResources.inc({ region, outcome: 'retried' }, ids.length);
      await this.pending.retryLater(region, ids, BACK_OFF).catch((e: unknown) => {
        // The rows stay claimed until their lease runs out, and are tried again then.
        this.log.warn({ msg: 'cannot schedule the retry of tagging', region, err: e });
      });
      return { tagged: 0, gone: 0, retried: ids.length };
    }
  }

  /**
   * The one way resources of ours found untagged are tagged (SPEC §2): CreateTags through the gateway (≤
   * 1000 ids a call; ids EC2 no longer knows are set aside and the rest tagged), then forgotten from the
   * waiting list, tagged or gone. Throws what the gateway throws (throttled, unreachable, fenced).
   */
  async tag(
    region: string,
    workerType: string,
    ids: readonly string[],
    opts: MutationOptions = {},
  ): Promise<TagOutcome> {
    if (ids.length === 0) return { tagged: [], unknown: [] };
    const started = Date.now();
    const out = await this.ec2.tag(region, workerType, ids, opts);
    opts.signal?.throwIfAborted();
    await this.pending.forget(region, [...out.tagged, ...out.unknown]);
    this.metrics.taggedResources.inc({ region, outcome: 'tagged' }, out.tagged.length);
    this.metrics.taggedResources.inc({ region, outcome: 'gone' }, out.unknown.length);
    this.log.log({
      msg: 'resources tagged',
      region,
      workerType,
      tagged: out.tagged.length,
      ms: Date.now() - started,
      ...(out.unknown.length > 0 ? { gone: out.unknown } : {}),
    });
    return out;
  }

  /**
   * Before ending instances: tags those of them EC2 described untagged or still waiting for their tags,
   * so that a policy allowing TerminateInstances only on resources tagged as ours (deploy/iam-policy.json)
   * lets the call through. A failure is logged, not thrown: the termination is tried all the same. Costs
   * one indexed read when nothing needs tags.
   */
  async tagBeforeEnding(
    region: string,
    instances: readonly (Pick<OurInstance, 'id' | 'workerType'> & Partial<Pick<OurInstance, 'tagged' | 'volumeIds'>>)[],
    opts: MutationOptions = {},
  ): Promise<void> {
    const waiting = await this.pending.waitingAmong(
      region,
      instances.map((i) => i.id),
    );
    const untagged = [
      ...instances
        .filter((i) => i.tagged === false)
        .flatMap((i) => [i.id, ...(i.volumeIds ?? [])].map((resourceId) => ({ resourceId, workerType: i.workerType }))),
      ...waiting,
    ];
    for (const [workerType, rows] of groupBy(untagged, (w) => w.workerType)) {
      try {
        await this.tag(
          region,
          workerType,
          rows.map((r) => r.resourceId),
          opts,
        );
      } catch (err) {
        opts.signal?.throwIfAborted();
        this.log.warn({ msg: 'tagging instances before ending them failed', region, workerType, err });
      }
    }
  }
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}
