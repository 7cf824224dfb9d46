import { spotRequestId, uniqueId } from '../ids';
import { onDemandPrice } from './prices';
import { Instance, LaunchSpec, RegionState, SpotRequest, SpotRequestState, SpotRequestType, Tags } from './model';
import { EndCause } from './instances';
import type { SimEc2 } from './sim-ec2';

export interface SpotRequestInput {
  launch: LaunchSpec;
  spotPrice?: string;
  type: SpotRequestType;
  validFrom?: number;
  validUntil?: number;
  interruptionBehavior: string;
  tags: Tags;
  clientToken?: string;
}

export interface SeededSpotRequest {
  state: SpotRequestState;
  statusCode?: string;
  createTime?: number;
  autoEvaluate: boolean;
}

export type Placement = { ok: true; zone: string; price: number } | { ok: false; code: string; message: string };

const MESSAGES: Record<string, string> = {
  'pending-evaluation': 'Your Spot request has been submitted for review, and is pending evaluation.',
  fulfilled: 'Your spot request is fulfilled.',
  'capacity-not-available': 'There is no Spot capacity available that matches your request.',
  'canceled-before-fulfillment': 'Your Spot request was canceled before it was fulfilled.',
  'request-canceled-and-instance-running': 'Spot request was canceled, but the instance is still running.',
  'instance-terminated-by-user': 'Spot Instance terminated due to user-initiated termination.',
  'instance-terminated-no-capacity': 'Your Spot Instance was terminated because there is no more Spot capacity.',
  'marked-for-termination': 'Your Spot Instance is marked for termination.',
  'schedule-expired': 'Your Spot request has expired.',
};

/** Spot requests: `open/pending-evaluation → active/fulfilled`, or stuck open on price or capacity. */
export class SpotRequests {
  constructor(private readonly ec2: SimEc2) {}

  /** The request's maximum price; EC2's default is the on-demand price. */
  bid(request: { spotPrice?: string; launch: LaunchSpec }, region: string): number {
    return request.spotPrice !== undefined
      ? Number(request.spotPrice)
      : onDemandPrice(region, request.launch.instanceType);
  }

  create(region: RegionState, input: SpotRequestInput, count: number, seeded?: SeededSpotRequest): SpotRequest[] {
    const now = this.ec2.clock.now();
    const out: SpotRequest[] = [];
    for (let i = 0; i < count; i++) {
      const statusCode = seeded?.statusCode ?? 'pending-evaluation';
      const request: SpotRequest = {
        seq: region.nextSeq(),
        removed: false,
        spotInstanceRequestId: uniqueId(spotRequestId, (id) => region.spotRequests.has(id)),
        region: region.name,
        spotPrice: input.spotPrice ?? formatPrice(this.bid(input, region.name)),
        type: input.type,
        launch: input.launch,
        createTime: seeded?.createTime ?? now,
        createdAt: now,
        productDescription: 'Linux/UNIX',
        validFrom: input.validFrom,
        validUntil: input.validUntil,
        interruptionBehavior: input.interruptionBehavior,
        clientToken: input.clientToken,
        autoEvaluate: seeded?.autoEvaluate ?? true,
        state: seeded?.state ?? 'open',
        statusCode,
        statusMessage: MESSAGES[statusCode] ?? '',
        statusUpdateTime: now,
        tags: new Map(input.tags),
      };
      region.addSpotRequest(request);
      if (request.state === 'open') region.capacity.openSpotCounted(request.launch.instanceType, +1);
      if (request.state === 'open' && request.autoEvaluate) {
        request.next = this.ec2.clock.after(this.ec2.timings.spotEvaluationSeconds, () => this.evaluate(request));
      } else if (request.state === 'closed' || request.state === 'cancelled' || request.state === 'failed') {
        this.scheduleRemoval(request);
      }
      out.push(request);
    }
    return out;
  }

  /** Picks the cheapest zone whose price is within the bid and whose pool has room for `count` more. */
  place(region: RegionState, launch: LaunchSpec, bid: number, count: number): Placement {
    const zones = launch.zone ? [launch.zone] : region.zones.map((z) => z.name);
    let best: { zone: string; price: number } | undefined;
    let lowest = Number.POSITIVE_INFINITY;
    let priceOk = false;
    for (const zone of zones) {
      const price = this.ec2.market.price(region.name, zone, launch.instanceType);
      lowest = Math.min(lowest, price);
      if (price > bid) continue;
      priceOk = true;
      if (region.capacity.poolRoom('spot', zone, launch.instanceType) < count) continue;
      if (!best || price < best.price) best = { zone, price };
    }
    if (best) return { ok: true, ...best };
    if (priceOk) return { ok: false, code: 'capacity-not-available', message: MESSAGES['capacity-not-available'] };
    return {
      ok: false,
      code: 'price-too-low',
      message: `Your Spot request price of ${formatPrice(bid)} is lower than the minimum required Spot request fulfillment price of ${formatPrice(lowest)}.`,
    };
  }

  evaluate(request: SpotRequest): void {
    request.next = undefined;
    if (request.removed || request.state !== 'open') return;
    const region = this.regionOf(request);
    const now = this.ec2.clock.now();
    if (request.validUntil !== undefined && now >= request.validUntil) {
      this.setStatus(request, 'closed', 'schedule-expired');
      return;
    }
    const placement =
      request.validFrom !== undefined && now < request.validFrom
        ? { ok: false as const, code: 'pending-evaluation', message: MESSAGES['pending-evaluation'] }
        : this.place(region, request.launch, this.bid(request, region.name), 1);
    if (placement.ok) {
      const [instance] = this.ec2.instances.launch(
        region,
        { ...request.launch, zone: placement.zone },
        { count: 1, zone: placement.zone, spotRequestIds: [request.spotInstanceRequestId] },
      );
      request.instanceId = instance.instanceId;
      request.launchedZone = instance.zone;
      this.setStatus(request, 'active', 'fulfilled');
      return;
    }
    if (request.statusCode !== placement.code) this.setStatus(request, 'open', placement.code, placement.message);
    if (request.autoEvaluate) {
      request.next = this.ec2.clock.after(this.ec2.timings.spotRetrySeconds, () => this.evaluate(request));
    }
  }

  /** Re-evaluates every open request of a region now, e.g. after a price or capacity change. */
  evaluateOpen(region: RegionState): void {
    for (const request of region.spotRequests.values()) {
      if (request.state === 'open' && request.autoEvaluate) {
        if (request.next) request.next.cancelled = true;
        this.evaluate(request);
      }
    }
  }

  cancel(request: SpotRequest): { previous: SpotRequestState; state: SpotRequestState } {
    const previous = request.state;
    if (previous === 'open') this.setStatus(request, 'cancelled', 'canceled-before-fulfillment');
    else if (previous === 'active') this.setStatus(request, 'cancelled', 'request-canceled-and-instance-running');
    return { previous, state: request.state };
  }

  /** Called when the request's instance leaves pending/running. */
  instanceEnded(instance: Instance, cause: EndCause): void {
    const request = instance.spotInstanceRequestId
      ? this.ec2.region(instance.region)?.spotRequests.get(instance.spotInstanceRequestId)
      : undefined;
    if (!request || request.state !== 'active' || request.instanceId !== instance.instanceId) return;
    if (request.type === 'persistent') {
      request.instanceId = undefined;
      this.setStatus(request, 'open', 'pending-evaluation');
      request.next = this.ec2.clock.after(this.ec2.timings.spotEvaluationSeconds, () => this.evaluate(request));
      return;
    }
    this.setStatus(
      request,
      'closed',
      cause === 'interruption' || cause === 'insufficient-capacity'
        ? 'instance-terminated-no-capacity'
        : 'instance-terminated-by-user',
    );
  }

  markForTermination(instance: Instance): void {
    const request = instance.spotInstanceRequestId
      ? this.ec2.region(instance.region)?.spotRequests.get(instance.spotInstanceRequestId)
      : undefined;
    if (request?.state === 'active') this.setStatus(request, 'active', 'marked-for-termination');
  }

  private setStatus(request: SpotRequest, state: SpotRequestState, code: string, message?: string): void {
    if ((request.state === 'open') !== (state === 'open')) {
      this.regionOf(request).capacity.openSpotCounted(request.launch.instanceType, state === 'open' ? +1 : -1);
    }
    request.state = state;
    request.statusCode = code;
    request.statusMessage = message ?? MESSAGES[code] ?? '';
    request.statusUpdateTime = this.ec2.clock.now();
    if (state === 'closed' || state === 'cancelled' || state === 'failed') {
      if (request.next) request.next.cancelled = true;
      this.scheduleRemoval(request);
    }
  }

  private scheduleRemoval(request: SpotRequest): void {
    request.next = this.ec2.clock.after(this.ec2.timings.closedSpotRetentionSeconds, () =>
      this.regionOf(request).removeSpotRequest(request),
    );
  }

  private regionOf(request: SpotRequest): RegionState {
    const region = this.ec2.region(request.region);
    if (!region) throw new Error(`spot request ${request.spotInstanceRequestId} in unknown region`);
    return region;
  }
}

export function formatPrice(price: number): string {
  return price.toFixed(6);
}
