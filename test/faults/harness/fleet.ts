import { ApiClient, CallRecord, isRetryable, isSuccess } from './api';
import { Rng } from './random';
import { sleep } from './replica';
import { ec2Truth, isLive, ownerWorkerType } from './truth';
import { FaultWorld } from './world';

const IMAGE_ID = 'ami-0123456789abcdef0';
const INSTANCE_TYPES = ['m5.large', 'c5.large', 't3.medium'];
/** A launch answered "try again" is retried with its ClientToken this many times, after 1 s, 2 s, 4 s. */
const LAUNCH_RETRIES = 3;
/** Launches retried at once after the faults, as a provisioner's few workers would (not all at once). */
const SETTLE_CONCURRENCY = 6;
/**
 * How long before a terminateWorkerType no instance of the worker type is launched outside the API:
 * longer than any describe lag of a schedule (≤ 3 s), so that every instance of it is known to the
 * service, by its describe or by its state, when the call begins.
 */
const OUTSIDE_QUIET_MS = 5000;

export type LaunchKind = 'run-on-demand' | 'run-spot' | 'request-spot';

/** One launch by ClientToken: every attempt (a retry reuses the token), and what it should have created. */
export interface Launch {
  token: string;
  kind: LaunchKind;
  workerType: string;
  region: string;
  attempts: CallRecord[];
  body: Record<string, unknown>;
  /** A bid under the market: EC2 keeps the request open (`price-too-low`) until the poller cancels it. */
  lowBid: boolean;
}

/** A success the API claimed, checked against the sandbox the moment the answer came. */
export interface Claim {
  call: CallRecord;
  /** What was wrong with it, or null when the sandbox agrees. */
  problem: string | null;
}

export interface FleetOptions {
  workers: number;
  /** Pause between one worker's operations, ms. */
  pauseMs: [number, number];
  /** Pause between two changes EC2 makes by itself (launches outside the API, instances ending), ms. */
  ec2PauseMs: [number, number];
}

/**
 * A provisioner's traffic through the API while faults come and go: launches of every kind (each with
 * its own ClientToken, retried with the same token when the answer says "try again"), terminations
 * (of settled and of just-launched instances), spot cancellations, interruptions through the
 * sandbox, calls aimed at foreign look-alikes, and terminateWorkerType. Every success the API claims
 * is checked against the sandbox at once.
 */
export class FleetDriver {
  readonly launches = new Map<string, Launch>();
  readonly claims: Claim[] = [];
  readonly interruptions: string[] = [];
  /** Instances of ours launched or ended by EC2's side, not through the API (ids). */
  readonly outside = { launched: [] as string[], ended: [] as string[] };
  /** When an instance of each worker type was last launched outside the API (ms). */
  private readonly outsideLaunchedAt = new Map<string, number>();
  private stopped = false;
  private seq = 0;
  /** Launches of a worker type in flight; terminateWorkerType waits for them and holds new ones back. */
  private readonly busy = new Map<string, number>();
  private readonly exclusive = new Set<string>();

  constructor(
    private readonly world: FaultWorld,
    private readonly api: ApiClient,
    private readonly rng: Rng,
    readonly workerTypes: string[],
    private readonly foreign: { instances: string[]; requests: string[] },
    private readonly options: FleetOptions,
  ) {}

  async ensureKeyPairs(): Promise<void> {
    for (const wt of this.workerTypes) {
      const r = await this.api.call('ensureKeyPair', 'GET', `/v1/worker-types/${wt}/key-pair`);
      if (!isSuccess(r)) throw new Error(`ensureKeyPair ${wt}: ${String(r.status)} ${JSON.stringify(r.body)}`);
    }
  }

  /** Runs the workers until `stop()`. */
  async run(): Promise<void> {
    await Promise.all([
      ...Array.from({ length: this.options.workers }, (_, n) => this.worker(this.rng.fork(`worker-${n}`))),
      this.ec2Activity(this.rng.fork('ec2')),
    ]);
  }

  stop(): void {
    this.stopped = true;
  }

  private async worker(rng: Rng): Promise<void> {
    while (!this.stopped) {
      const op = rng.weighted({
        'run-on-demand': 4,
        'run-spot': 3,
        'request-spot': 4,
        'request-spot-low': 1,
        terminate: 3,
        'terminate-fresh': 2,
        'cancel-spot': 1,
        interrupt: 1,
        'foreign-terminate': 0.5,
        'foreign-cancel': 0.5,
        retry: 2,
      });
      switch (op) {
        case 'run-on-demand':
        case 'run-spot':
        case 'request-spot':
          await this.launch(rng, op, false);
          break;
        case 'request-spot-low':
          await this.launch(rng, 'request-spot', true);
          break;
        case 'terminate':
          await this.terminate(rng, false);
          break;
        case 'terminate-fresh':
          await this.terminate(rng, true);
          break;
        case 'cancel-spot':
          await this.cancel(rng);
          break;
        case 'interrupt':
          this.interrupt(rng);
          break;
        case 'foreign-terminate':
          if (this.foreign.instances.length) await this.terminateById(rng.pick(this.foreign.instances));
          break;
        case 'foreign-cancel':
          if (this.foreign.requests.length) await this.cancelById(rng.pick(this.foreign.requests));
          break;
        case 'retry':
          await this.retryOne(rng);
          break;
      }
      await sleep(rng.between(...this.options.pauseMs));
    }
  }

  /**
   * EC2 changing under the service whether or not the service can take it in: instances of ours
   * launched outside its API (an earlier deployment, an operator) and instances of ours ending by
   * EC2's doing (capacity lost). Their events wait in the queue through any outage of ours, and state
   * must still come to equal EC2 afterwards (SPEC §4: our own outages never cost an event).
   */
  private async ec2Activity(rng: Rng): Promise<void> {
    const control = this.world.sandbox.control;
    while (!this.stopped) {
      // Not of a worker type being terminated as a whole: a launch it cannot know of yet is not its miss.
      const open = this.workerTypes.filter((wt) => !this.exclusive.has(wt));
      if (rng.chance(0.5) && open.length) {
        const wt = rng.pick(open);
        this.outsideLaunchedAt.set(wt, Date.now());
        const { instanceIds } = control.seedInstances({
          region: rng.pick(this.world.regions),
          count: rng.int(1, 2),
          keyName: this.world.keyName(wt),
          state: 'pending',
          spot: rng.chance(0.3),
          emitEvents: true,
        });
        this.outside.launched.push(...instanceIds);
      } else {
        const truth = ec2Truth(this.world.sandbox);
        const ours = truth.instances.filter((i) => isLive(i.state) && ownerWorkerType(i.keyName) !== null);
        if (ours.length) {
          const target = rng.pick(ours);
          control.endInstance(target.id, 'insufficient-capacity');
          this.outside.ended.push(target.id);
        }
      }
      await sleep(rng.between(...this.options.ec2PauseMs));
    }
  }

  private async launch(rng: Rng, kind: LaunchKind, lowBid: boolean): Promise<void> {
    const wt = rng.pick(this.workerTypes);
    if (this.exclusive.has(wt)) return;
    const region = rng.pick(this.world.regions);
    const token = `f${this.rng.seed}-${++this.seq}`;
    const spec: Record<string, unknown> = {
      ImageId: IMAGE_ID,
      InstanceType: rng.pick(INSTANCE_TYPES),
      KeyName: this.world.keyName(wt),
    };
    const body: Record<string, unknown> =
      kind === 'request-spot'
        ? { ClientToken: token, Region: region, SpotPrice: lowBid ? 0.001 : 0.5, LaunchSpecification: spec }
        : {
            ClientToken: token,
            Region: region,
            RequestType: kind === 'run-spot' ? 'spot' : 'on-demand',
            ...(kind === 'run-spot' ? { SpotPrice: 0.5 } : {}),
            LaunchInfo: spec,
          };
    const launch: Launch = { token, kind, workerType: wt, region, attempts: [], body, lowBid };
    this.launches.set(token, launch);
    // A provisioner told to try again retries the same launch (same ClientToken) after a pause, a few
    // times, before it turns to other work: it does not answer an outage with ever new launches.
    for (let retry = 0; isRetryable(await this.attempt(launch)) && retry < LAUNCH_RETRIES && !this.stopped; retry++) {
      await sleep(1000 * 2 ** retry);
    }
  }

  /**
   * Spot requests EC2 will keep open (bid under the market): something for the spot poller to
   * describe, so that its runs reach EC2. Resolves once each was answered.
   */
  async openLowBids(count: number): Promise<void> {
    const rng = this.rng.fork(`low-bids-${this.seq}`);
    await Promise.all(Array.from({ length: count }, () => this.launch(rng, 'request-spot', true)));
  }

  private async attempt(launch: Launch): Promise<CallRecord> {
    const wt = launch.workerType;
    this.busy.set(wt, (this.busy.get(wt) ?? 0) + 1);
    try {
      const path =
        launch.kind === 'request-spot' ? `/v1/worker-types/${wt}/spot-request` : `/v1/worker-types/${wt}/instance`;
      const r = await this.api.call(launch.kind, 'PUT', path, launch.body);
      launch.attempts.push(r);
      return r;
    } finally {
      this.busy.set(wt, this.busy.get(wt)! - 1);
    }
  }

  /** Launches whose last answer said "try again" (or none came). */
  unsettled(): Launch[] {
    return [...this.launches.values()].filter((l) => {
      const last = l.attempts[l.attempts.length - 1];
      return !last || (isRetryable(last) && !l.attempts.some(isSuccess));
    });
  }

  private async retryOne(rng: Rng): Promise<void> {
    const open = this.unsettled().filter((l) => !this.exclusive.has(l.workerType));
    if (open.length) await this.attempt(rng.pick(open));
  }

  /**
   * After the faults: retries every unsettled launch with its ClientToken until it gets a definite
   * answer, as a provisioner must (SPEC §8: a retry completes the row, never launches twice).
   */
  async settleLaunches(timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    const queue = this.unsettled();
    const settle = async (): Promise<void> => {
      for (let launch = queue.shift(); launch && Date.now() < until; launch = queue.shift()) {
        while (isRetryable(await this.attempt(launch)) && Date.now() < until) await sleep(1000);
      }
    };
    await Promise.all(Array.from({ length: SETTLE_CONCURRENCY }, settle));
  }

  private async terminate(rng: Rng, fresh: boolean): Promise<void> {
    const truth = ec2Truth(this.world.sandbox);
    const ours = truth.instances.filter((i) => isLive(i.state) && ownerWorkerType(i.keyName) !== null);
    // Fresh: launched a moment ago, where EC2's describe may not know it yet (issue #10 defect 2).
    const pool = fresh ? ours.filter((i) => truth.now - i.launchTime < 5000) : ours;
    if (pool.length) await this.terminateById(rng.pick(pool).id);
  }

  private regionOf(id: string): string | undefined {
    return this.world.sandbox.control.instance(id)?.region;
  }

  private async terminateById(id: string): Promise<void> {
    const region = this.regionOf(id);
    if (!region) return;
    const r = await this.api.call('terminateInstance', 'DELETE', `/v1/region/${region}/instance/${id}`);
    if (!isSuccess(r)) return;
    const state = this.world.sandbox.control.instance(id)?.state;
    this.claims.push({
      call: r,
      problem:
        state === 'shutting-down' || state === 'terminated'
          ? null
          : `answered ${r.status} but instance ${region}/${id} is ${state ?? 'unknown to EC2'}`,
    });
  }

  private async cancel(rng: Rng): Promise<void> {
    const truth = ec2Truth(this.world.sandbox);
    const open = truth.requests.filter((r) => r.state === 'open' && ownerWorkerType(r.keyName) !== null);
    if (open.length) await this.cancelById(rng.pick(open).id);
  }

  private async cancelById(id: string): Promise<void> {
    const request = ec2Truth(this.world.sandbox).requests.find((r) => r.id === id);
    if (!request) return;
    const r = await this.api.call(
      'cancelSpotInstanceRequest',
      'DELETE',
      `/v1/region/${request.region}/spot-instance-request/${id}`,
    );
    if (!isSuccess(r)) return;
    const now = ec2Truth(this.world.sandbox).requests.find((q) => q.id === id);
    this.claims.push({
      call: r,
      problem:
        now && now.state !== 'open' ? null : `answered ${r.status} but request ${request.region}/${id} is still open`,
    });
  }

  private interrupt(rng: Rng): void {
    const truth = ec2Truth(this.world.sandbox);
    const spot = truth.instances.filter(
      (i) => i.state === 'running' && i.spotRequestId !== undefined && ownerWorkerType(i.keyName) !== null,
    );
    if (!spot.length) return;
    const target = rng.pick(spot);
    this.world.sandbox.control.interrupt(target.id, rng.chance(0.2) ? 'rebalance' : 'spot-interruption');
    this.interruptions.push(target.id);
  }

  /**
   * terminateWorkerType with the worker type's launches held back (and those in flight finished):
   * after a success nothing of it that existed when the call began may still be live in EC2.
   */
  async terminateWorkerType(wt: string): Promise<void> {
    this.exclusive.add(wt);
    try {
      while ((this.busy.get(wt) ?? 0) > 0) await sleep(50);
      await sleep((this.outsideLaunchedAt.get(wt) ?? 0) + OUTSIDE_QUIET_MS - Date.now());
      const began = this.world.sandbox.control.clockState().nowMs;
      const r = await this.api.call('terminateWorkerType', 'DELETE', `/v1/worker-types/${wt}/resources`);
      if (!isSuccess(r)) return;
      const truth = ec2Truth(this.world.sandbox);
      const left = [
        ...truth.instances
          .filter((i) => isLive(i.state) && ownerWorkerType(i.keyName) === wt && i.launchTime < began)
          .map((i) => `instance ${i.region}/${i.id} ${i.state}`),
        ...truth.requests
          .filter((q) => q.state === 'open' && ownerWorkerType(q.keyName) === wt && q.createTime < began)
          .map((q) => `request ${q.region}/${q.id} open`),
      ];
      this.claims.push({
        call: r,
        problem: left.length ? `answered ${r.status} for ${wt} but left live: ${left.join(', ')}` : null,
      });
    } finally {
      this.exclusive.delete(wt);
    }
  }
}
