import { Instance, INSTANCE_STATES, SpotRequest, Volume } from '../ec2/model';
import { SimEc2 } from '../ec2/sim-ec2';
import { DeliveryStats, EventDelivery } from '../events/delivery';
import { RuleStore } from '../events/rules';
import { Faults, FaultSettings } from '../faults';

export interface StateQuery {
  region?: string;
  /** Counts only. */
  summary?: boolean;
  /** At most this many items per collection (default 1000); `truncated` says when more exist. */
  limit?: number;
}

export interface RegionSnapshot {
  counts: {
    instances: Record<string, number>;
    spotRequests: Record<string, number>;
    volumes: number;
    keyPairs: number;
    images: number;
    launchTemplates: number;
  };
  /** EC2 requests answered since the last reset, by action (throttled and failed ones too). */
  calls: Record<string, number>;
  zones?: { name: string; id: string }[];
  instances?: Record<string, unknown>[];
  spotRequests?: Record<string, unknown>[];
  volumes?: Record<string, unknown>[];
  keyPairs?: Record<string, unknown>[];
  images?: Record<string, unknown>[];
  launchTemplates?: Record<string, unknown>[];
  truncated?: boolean;
}

export interface SandboxState {
  clock: { now: string; nowMs: number; speed: number };
  regions: Record<string, RegionSnapshot>;
  rules?: Record<string, unknown>[];
  faults: FaultSettings;
  /** EC2 requests an `ec2.outage` of `hang` holds unanswered right now. */
  heldEc2Requests: number;
  events: DeliveryStats;
}

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
const tags = (t: Map<string, string>) => Object.fromEntries(t);

function instanceJson(i: Instance): Record<string, unknown> {
  return {
    instanceId: i.instanceId,
    state: i.state,
    keyName: i.keyName,
    instanceType: i.instanceType,
    lifecycle: i.spotInstanceRequestId ? 'spot' : 'on-demand',
    imageId: i.imageId,
    zone: i.zone,
    subnetId: i.subnetId,
    shutdownBehavior: i.shutdownBehavior,
    launchTime: iso(i.launchTime),
    reservationId: i.reservationId,
    spotInstanceRequestId: i.spotInstanceRequestId,
    stateReason: i.stateReason?.code,
    tags: tags(i.tags),
    volumeIds: i.blockDevices.map((d) => d.volumeId),
  };
}

function spotJson(r: SpotRequest): Record<string, unknown> {
  return {
    spotInstanceRequestId: r.spotInstanceRequestId,
    state: r.state,
    statusCode: r.statusCode,
    type: r.type,
    spotPrice: r.spotPrice,
    keyName: r.launch.keyName,
    instanceType: r.launch.instanceType,
    zone: r.launch.zone,
    instanceId: r.instanceId,
    createTime: iso(r.createTime),
    tags: tags(r.tags),
  };
}

function volumeJson(v: Volume): Record<string, unknown> {
  return {
    volumeId: v.volumeId,
    status: v.status,
    size: v.size,
    zone: v.zone,
    instanceId: v.attachment?.instanceId,
    device: v.attachment?.device,
    tags: tags(v.tags),
  };
}

function take<T>(items: Iterable<T>, limit: number, map: (item: T) => Record<string, unknown>) {
  const out: Record<string, unknown>[] = [];
  for (const item of items) {
    if (out.length === limit) return { out, truncated: true };
    out.push(map(item));
  }
  return { out, truncated: false };
}

export function describeState(
  ec2: SimEc2,
  rules: RuleStore,
  faults: Faults,
  delivery: EventDelivery,
  clock: SandboxState['clock'],
  query: StateQuery,
  network: { heldEc2Requests: number },
): SandboxState {
  const limit = query.limit ?? 1000;
  const regions: Record<string, RegionSnapshot> = {};
  for (const region of ec2.regions.values()) {
    if (query.region !== undefined && region.name !== query.region) continue;
    const spotCounts: Record<string, number> = {};
    for (const r of region.spotRequests.values()) spotCounts[r.state] = (spotCounts[r.state] ?? 0) + 1;
    const snapshot: RegionSnapshot = {
      counts: {
        instances: Object.fromEntries(INSTANCE_STATES.map((s) => [s, region.instancesByState.get(s)?.size ?? 0])),
        spotRequests: spotCounts,
        volumes: region.volumes.size,
        keyPairs: region.keyPairs.size,
        images: region.images.size,
        launchTemplates: region.launchTemplates.size,
      },
      calls: Object.fromEntries(region.calls),
    };
    if (!query.summary) {
      const instances = take(region.instanceOrder.from(-1), limit, instanceJson);
      const spot = take(region.spotOrder.from(-1), limit, spotJson);
      const volumes = take(region.volumeOrder.from(-1), limit, volumeJson);
      snapshot.zones = region.zones.map((z) => ({ name: z.name, id: z.id }));
      snapshot.instances = instances.out;
      snapshot.spotRequests = spot.out;
      snapshot.volumes = volumes.out;
      snapshot.keyPairs = [...region.keyPairs.values()].map((k) => ({
        keyName: k.keyName,
        keyPairId: k.keyPairId,
        keyFingerprint: k.keyFingerprint,
        tags: tags(k.tags),
      }));
      snapshot.images = [...region.images.values()].map((i) => ({
        imageId: i.imageId,
        name: i.name,
        architecture: i.architecture,
      }));
      snapshot.launchTemplates = [...region.launchTemplates.values()].map((t) => ({
        launchTemplateId: t.launchTemplateId,
        launchTemplateName: t.launchTemplateName,
        defaultVersion: t.defaultVersion,
        latestVersion: t.latestVersion,
        createTime: iso(t.createTime),
        tags: tags(t.tags),
      }));
      snapshot.truncated = instances.truncated || spot.truncated || volumes.truncated;
    }
    regions[region.name] = snapshot;
  }
  return {
    clock,
    regions,
    rules: query.summary
      ? undefined
      : rules
          .all()
          .filter((r) => query.region === undefined || r.region === query.region)
          .map((r) => ({
            region: r.region,
            name: r.name,
            arn: r.arn,
            state: r.state,
            eventPattern: r.eventPattern,
            targets: [...r.targets.values()].map((t) => ({ id: t.Id, arn: t.Arn })),
          })),
    faults: faults.settings,
    heldEc2Requests: network.heldEc2Requests,
    events: { ...delivery.stats },
  };
}
