import { ListQueuesCommand, PurgeQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { SimClock } from '../clock';
import { hexId, uniqueId } from '../ids';
import { Lifecycle, Quota, QuotaUsage } from '../ec2/capacity';
import { DEFAULT_INSTANCE_TYPE, INSTANCE_TYPES, SEED_IMAGES, SubnetInfo } from '../ec2/catalog';
import { IMAGE_ID } from '../ec2/launch';
import { Instance, InstanceStateName, LaunchSpec, RegionState, SpotRequestState, SpotRequestType } from '../ec2/model';
import { SimEc2 } from '../ec2/sim-ec2';
import type { EndCause } from '../ec2/instances';
import { DeliveryRecord, DeliveryStats, EventDelivery } from '../events/delivery';
import { makeEnvelope } from '../events/envelope';
import { RuleStore } from '../events/rules';
import { Faults, FaultSettings, FaultUpdate } from '../faults';
import { SqsSender } from '../sqs/sender';
import { ControlError } from './input';
import { describeState, SandboxState, StateQuery } from './state';

export interface SeedInstancesInput {
  region: string;
  count: number;
  keyName?: string;
  instanceType?: string;
  imageId?: string;
  /** Default: spread over the region's zones. */
  zone?: string;
  /** Default `running`. */
  state?: InstanceStateName;
  /** Launch time; or `ageSeconds` before now. Default now. */
  launchTime?: number;
  ageSeconds?: number;
  tags?: Record<string, string>;
  /** Give each instance a fulfilled spot request, as if launched from one. */
  spot?: boolean;
  spotPrice?: string;
  /** Publish a state-change event for each seeded instance (default false). */
  emitEvents?: boolean;
}

export interface SeedSpotRequestsInput {
  region: string;
  count: number;
  keyName?: string;
  instanceType?: string;
  imageId?: string;
  zone?: string;
  spotPrice?: string;
  type?: SpotRequestType;
  /** Default `open`; `active` also launches a running instance for each request. */
  state?: SpotRequestState;
  /** Default follows the state: open → pending-evaluation, active → fulfilled, … */
  statusCode?: string;
  createTime?: number;
  ageSeconds?: number;
  tags?: Record<string, string>;
  /** Let the simulated market evaluate open requests (default false: they stay exactly as seeded). */
  evaluate?: boolean;
}

export interface ClockInput {
  speed?: number;
  /** Jump to this time (ms since the epoch); moving forward runs everything due on the way. */
  time?: number;
  advanceSeconds?: number;
}

export interface ClockState {
  now: string;
  nowMs: number;
  speed: number;
}

export interface PoolInput {
  region: string;
  /** Default: every zone of the region. */
  zone?: string;
  instanceType: string;
}

export type InterruptionKind = 'spot-interruption' | 'rebalance';

export interface QuotaInput {
  region: string;
  lifecycle?: Lifecycle;
  vcpus?: number | null;
  instances?: number | null;
  fleets?: number | null;
}

export interface QuotaState {
  spot: Quota & { used: QuotaUsage };
  'on-demand': Quota & { used: QuotaUsage };
  fleetsLeft: number | null;
}

export interface EmitEventInput {
  region: string;
  source?: string;
  detailType: string;
  detail: Record<string, unknown>;
  resources?: string[];
}

export interface ResetInput {
  /** Also delete EventBridge rules and targets (default: keep them, like the account's setup). */
  rules?: boolean;
  /** Also purge every SQS queue (default false). */
  purgeQueues?: boolean;
}

const DEFAULT_STATUS: Record<SpotRequestState, string> = {
  open: 'pending-evaluation',
  active: 'fulfilled',
  closed: 'instance-terminated-by-user',
  cancelled: 'canceled-before-fulfillment',
  failed: 'bad-parameters',
};

/** Everything tests, benchmarks and demos can do to the sandbox besides the AWS APIs; the HTTP routes call these. */
export class SandboxControl {
  constructor(
    private readonly ec2: SimEc2,
    private readonly clock: SimClock,
    private readonly rules: RuleStore,
    private readonly delivery: EventDelivery,
    private readonly sender: SqsSender,
    private readonly faultsState: Faults,
    private readonly sqsEndpoint: string,
    private readonly network: { settled(): Promise<void>; heldEc2Requests(): number },
  ) {}

  async reset(input: ResetInput = {}): Promise<void> {
    this.clock.clearTasks();
    this.ec2.reset();
    this.ec2.market.reset();
    this.faultsState.clear();
    this.delivery.reset();
    if (input.rules) this.rules.clear();
    if (input.purgeQueues) await this.purgeQueues();
    await this.settled();
  }

  seedInstances(input: SeedInstancesInput): { instanceIds: string[] } {
    const region = this.region(input.region);
    const count = checkCount(input.count);
    const spec = this.seedLaunchSpec(region, input);
    const zones = input.zone ? [this.zone(region, input.zone)] : region.zones.map((z) => z.name);
    const launchTime =
      input.launchTime ?? (input.ageSeconds !== undefined ? this.clock.now() - input.ageSeconds * 1000 : undefined);
    const state = input.state ?? 'running';
    const tags = new Map(Object.entries(input.tags ?? {}));
    const ids: string[] = [];
    // Chunks of up to 100 make realistic reservations and spread the fleet over the zones.
    for (let done = 0, chunk = 0; done < count; chunk++) {
      const n = Math.min(100, count - done);
      const zone = zones[chunk % zones.length];
      const requests = input.spot
        ? this.ec2.spot.create(
            region,
            {
              launch: { ...spec, zone },
              spotPrice: input.spotPrice,
              type: 'one-time',
              interruptionBehavior: 'terminate',
              tags: new Map(),
            },
            n,
            {
              state: state === 'pending' || state === 'running' ? 'active' : 'closed',
              statusCode: state === 'pending' || state === 'running' ? 'fulfilled' : 'instance-terminated-by-user',
              createTime: launchTime,
              autoEvaluate: true,
            },
          )
        : [];
      const launched = this.ec2.instances.launch(region, spec, {
        count: n,
        zone,
        tags,
        state,
        launchTime,
        emitEvents: input.emitEvents ?? false,
        spotRequestIds: input.spot ? requests.map((r) => r.spotInstanceRequestId) : undefined,
      });
      requests.forEach((r, k) => {
        r.instanceId = launched[k].instanceId;
        r.launchedZone = zone;
      });
      for (const i of launched) ids.push(i.instanceId);
      done += n;
    }
    return { instanceIds: ids };
  }

  seedSpotRequests(input: SeedSpotRequestsInput): { spotInstanceRequestIds: string[] } {
    const region = this.region(input.region);
    const count = checkCount(input.count);
    const spec = this.seedLaunchSpec(region, input);
    if (input.zone) spec.zone = this.zone(region, input.zone);
    const state = input.state ?? 'open';
    const createTime =
      input.createTime ?? (input.ageSeconds !== undefined ? this.clock.now() - input.ageSeconds * 1000 : undefined);
    const requests = this.ec2.spot.create(
      region,
      {
        launch: spec,
        spotPrice: input.spotPrice,
        type: input.type ?? 'one-time',
        interruptionBehavior: 'terminate',
        tags: new Map(Object.entries(input.tags ?? {})),
      },
      count,
      {
        state,
        statusCode: input.statusCode ?? DEFAULT_STATUS[state],
        createTime,
        autoEvaluate: input.evaluate ?? false,
      },
    );
    if (state === 'active') {
      for (const request of requests) {
        const zone = spec.zone ?? region.zones[region.zoneCursor++ % region.zones.length].name;
        const [instance] = this.ec2.instances.launch(region, spec, {
          count: 1,
          zone,
          state: 'running',
          launchTime: createTime,
          spotRequestIds: [request.spotInstanceRequestId],
        });
        request.instanceId = instance.instanceId;
        request.launchedZone = zone;
      }
    }
    return { spotInstanceRequestIds: requests.map((r) => r.spotInstanceRequestId) };
  }

  registerImage(input: { region: string; imageId: string; name?: string; architecture?: 'x86_64' | 'arm64' }): void {
    const region = this.region(input.region);
    if (!IMAGE_ID.test(input.imageId)) throw new ControlError(`invalid image id ${input.imageId}`);
    this.ec2.registerImage(region, input.imageId, input.name ?? input.imageId, input.architecture ?? 'x86_64');
  }

  clockState(): ClockState {
    const nowMs = this.clock.now();
    return { now: new Date(nowMs).toISOString(), nowMs, speed: this.clock.getSpeed() };
  }

  setClock(input: ClockInput): ClockState {
    if (input.speed !== undefined) {
      if (!(input.speed >= 0)) throw new ControlError('speed must be >= 0');
      this.clock.setSpeed(input.speed);
    }
    if (input.time !== undefined) this.clock.set(input.time);
    if (input.advanceSeconds !== undefined) {
      if (!(input.advanceSeconds >= 0)) throw new ControlError('advanceSeconds must be >= 0');
      this.clock.advance(input.advanceSeconds * 1000);
    }
    return this.clockState();
  }

  price(pool: PoolInput & { zone: string }): number {
    const region = this.region(pool.region);
    this.instanceType(pool.instanceType);
    return this.ec2.market.price(region.name, this.zone(region, pool.zone), pool.instanceType);
  }

  /** Pins the market price of a pool (`null` hands it back to the simulated market); open requests re-evaluate. */
  setPrice(pool: PoolInput & { price: number | null }): void {
    const region = this.region(pool.region);
    this.instanceType(pool.instanceType);
    if (pool.price !== null && !(pool.price >= 0)) throw new ControlError('price must be >= 0');
    for (const zone of this.zonesOf(region, pool.zone))
      this.ec2.market.setPrice(region.name, zone, pool.instanceType, pool.price);
    this.ec2.spot.evaluateOpen(region);
  }

  /**
   * Caps how many instances of a lifecycle (default spot) a pool holds at once (`null`: unlimited); open spot
   * requests re-evaluate.
   */
  setCapacity(pool: PoolInput & { capacity: number | null; lifecycle?: Lifecycle }): void {
    const region = this.region(pool.region);
    this.instanceType(pool.instanceType);
    if (pool.capacity !== null && !(Number.isInteger(pool.capacity) && pool.capacity >= 0)) {
      throw new ControlError('capacity must be an integer >= 0');
    }
    for (const zone of this.zonesOf(region, pool.zone)) {
      region.capacity.setLimit(pool.lifecycle ?? 'spot', zone, pool.instanceType, pool.capacity);
    }
    this.ec2.spot.evaluateOpen(region);
  }

  /** The account's quotas per region and lifecycle, with what counts against them now. */
  quotas(regionName?: string): Record<string, QuotaState> {
    const out: Record<string, QuotaState> = {};
    for (const region of this.ec2.regions.values()) {
      if (regionName !== undefined && region.name !== this.region(regionName).name) continue;
      const c = region.capacity;
      const view = (lifecycle: Lifecycle) => ({ ...c.quotas[lifecycle], used: c.inUse(lifecycle) });
      out[region.name] = { spot: view('spot'), 'on-demand': view('on-demand'), fleetsLeft: c.fleetsLeft ?? null };
    }
    return out;
  }

  /**
   * Sets quotas: `vcpus` and `instances` for one lifecycle, `fleets` (CreateFleet calls that may still succeed) for
   * the region. `null` lifts a quota; a field left out is left alone.
   */
  setQuota(input: QuotaInput): Record<string, QuotaState> {
    const region = this.region(input.region);
    const check = (name: string, v: number | null | undefined) => {
      if (v !== undefined && v !== null && !(Number.isInteger(v) && v >= 0)) {
        throw new ControlError(`${name} must be an integer >= 0 or null`);
      }
    };
    check('vcpus', input.vcpus);
    check('instances', input.instances);
    check('fleets', input.fleets);
    if ((input.vcpus !== undefined || input.instances !== undefined) && input.lifecycle === undefined) {
      throw new ControlError('lifecycle (spot or on-demand) is required with vcpus or instances');
    }
    if (input.lifecycle !== undefined) {
      const quota = region.capacity.quotas[input.lifecycle];
      if (input.vcpus !== undefined) quota.vcpus = input.vcpus ?? undefined;
      if (input.instances !== undefined) quota.instances = input.instances ?? undefined;
    }
    if (input.fleets !== undefined) region.capacity.fleetsLeft = input.fleets ?? undefined;
    return this.quotas(region.name);
  }

  /** Adds a subnet in a zone (every zone starts with one default subnet). */
  addSubnet(input: { region: string; zone: string; subnetId?: string; cidrBlock?: string }): SubnetInfo {
    const region = this.region(input.region);
    const zone = this.zone(region, input.zone);
    const subnetId =
      input.subnetId ??
      uniqueId(
        () => hexId('subnet'),
        (id) => region.subnets.has(id),
      );
    if (!/^subnet-([0-9a-f]{8}|[0-9a-f]{17})$/.test(subnetId)) throw new ControlError(`invalid subnet id ${subnetId}`);
    if (region.subnets.has(subnetId)) throw new ControlError(`subnet ${subnetId} already exists`, 409);
    const subnet: SubnetInfo = {
      subnetId,
      zone,
      cidrBlock: input.cidrBlock ?? `10.${region.subnets.size % 256}.0.0/16`,
      defaultForAz: false,
    };
    region.subnets.set(subnetId, subnet);
    return subnet;
  }

  /**
   * `spot-interruption`: the two-minute warning now, termination when the notice runs out.
   * `rebalance`: only the rebalance recommendation event.
   */
  interrupt(
    instanceId: string,
    kind: InterruptionKind = 'spot-interruption',
  ): { instanceId: string; terminatesAt?: string } {
    const instance = this.ec2.findInstance(instanceId);
    if (!instance) throw new ControlError(`instance ${instanceId} not found`, 404);
    if (instance.state !== 'pending' && instance.state !== 'running') {
      throw new ControlError(`instance ${instanceId} is ${instance.state}`, 409);
    }
    if (kind === 'rebalance') {
      this.ec2.events.rebalanceRecommendation(instance);
      return { instanceId };
    }
    this.ec2.events.interruptionWarning(instance);
    this.ec2.spot.markForTermination(instance);
    const notice = this.ec2.timings.interruptionNoticeSeconds;
    const at = this.clock.now() + notice * 1000;
    this.clock.at(at, () => {
      if (!instance.removed) this.ec2.instances.terminate(instance, 'interruption');
    });
    return { instanceId, terminatesAt: new Date(at).toISOString() };
  }

  /**
   * Ends an instance as EC2 or its own OS would, without TerminateInstances: a shutdown from inside
   * (`instance-initiated`), capacity lost under it (`insufficient-capacity`) or a spot interruption
   * whose warning never came (`interruption`). DescribeInstances shows the matching StateReason.
   */
  endInstance(instanceId: string, cause: Exclude<EndCause, 'user'>): { instanceId: string; state: string } {
    const instance = this.ec2.findInstance(instanceId);
    if (!instance) throw new ControlError(`instance ${instanceId} not found`, 404);
    if (instance.state !== 'pending' && instance.state !== 'running') {
      throw new ControlError(`instance ${instanceId} is ${instance.state}`, 409);
    }
    if (cause === 'instance-initiated') this.ec2.instances.shutDownFromInside(instance);
    else this.ec2.instances.terminate(instance, cause);
    return { instanceId, state: instance.state };
  }

  faults(): FaultSettings {
    return this.faultsState.settings;
  }

  setFaults(update: FaultUpdate): FaultSettings {
    try {
      return this.faultsState.update(update);
    } catch (err) {
      if (err instanceof RangeError) throw new ControlError(err.message);
      throw err;
    }
  }

  clearFaults(): FaultSettings {
    this.faultsState.clear();
    return this.faultsState.settings;
  }

  /**
   * Resolves once the listeners match the fault settings: a port closed by an outage is closed, one whose outage
   * ended accepts again. `setFaults` applies everything else at once.
   */
  settled(): Promise<void> {
    return this.network.settled();
  }

  /** Injects an event as if the AWS service had published it (PutEvents refuses `aws.*` sources, as AWS does). */
  emitEvent(input: EmitEventInput): { id: string } {
    this.region(input.region);
    const envelope = makeEnvelope({
      detailType: input.detailType,
      source: input.source ?? 'aws.ec2',
      account: this.ec2.accountId,
      time: this.clock.now(),
      region: input.region,
      resources: input.resources ?? [],
      detail: input.detail,
    });
    this.delivery.emit(envelope);
    return { id: envelope.id };
  }

  deliveries(): { stats: DeliveryStats; recent: DeliveryRecord[] } {
    return { stats: { ...this.delivery.stats }, recent: [...this.delivery.recent] };
  }

  /** Waits until every event sent so far has reached (or failed to reach) its queue. */
  flushEvents(): Promise<void> {
    return this.delivery.flush();
  }

  state(query: StateQuery = {}): SandboxState {
    if (query.region !== undefined) this.region(query.region);
    return describeState(this.ec2, this.rules, this.faultsState, this.delivery, this.clockState(), query, {
      heldEc2Requests: this.network.heldEc2Requests(),
    });
  }

  instance(instanceId: string): Instance | undefined {
    return this.ec2.findInstance(instanceId);
  }

  private async purgeQueues(): Promise<void> {
    this.sender.forget();
    const client = new SQSClient({
      region: this.ec2.options.regions[0],
      endpoint: this.sqsEndpoint,
      credentials: { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' },
    });
    try {
      const { QueueUrls = [] } = await client.send(new ListQueuesCommand({}));
      for (const url of QueueUrls) await client.send(new PurgeQueueCommand({ QueueUrl: url }));
    } finally {
      client.destroy();
    }
  }

  private seedLaunchSpec(
    region: RegionState,
    input: { keyName?: string; instanceType?: string; imageId?: string },
  ): LaunchSpec {
    const instanceType = input.instanceType ?? DEFAULT_INSTANCE_TYPE;
    const type = this.instanceType(instanceType);
    const imageId = input.imageId ?? (SEED_IMAGES.find((i) => i.arch === type.arch) ?? SEED_IMAGES[0]).imageId;
    if (!region.images.has(imageId)) this.registerImage({ region: region.name, imageId, architecture: type.arch });
    return { imageId, instanceType, keyName: input.keyName, blockDevices: [], securityGroupIds: [] };
  }

  private region(name: string): RegionState {
    const region = this.ec2.region(name);
    if (!region) throw new ControlError(`unknown region ${name}`, 404);
    return region;
  }

  private zone(region: RegionState, zone: string): string {
    if (!region.zoneByName.has(zone)) throw new ControlError(`unknown zone ${zone} in ${region.name}`, 404);
    return zone;
  }

  private zonesOf(region: RegionState, zone: string | undefined): string[] {
    return zone === undefined ? region.zones.map((z) => z.name) : [this.zone(region, zone)];
  }

  private instanceType(name: string) {
    const type = INSTANCE_TYPES[name];
    if (!type) throw new ControlError(`unknown instance type ${name}`);
    return type;
  }
}

function checkCount(count: number): number {
  if (!Number.isInteger(count) || count < 1 || count > 1_000_000) throw new ControlError('count must be 1..1000000');
  return count;
}
