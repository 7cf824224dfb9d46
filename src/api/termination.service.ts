import { Injectable, Logger } from '@nestjs/common';
import { ResourceNotFoundError, ServiceUnavailableError } from '../common/errors';
import { AppConfig } from '../config/app-config';
import { Ec2Gateway, Owned, Terminated } from '../ec2/ec2-gateway.service';
import { SpotRequestService } from '../resources/spot-requests.service';
import { TaggingService } from '../resources/tagging.service';
import { InstanceRepository } from '../state/instance.repository';
import { SpotRequestRepository } from '../state/spot-request.repository';
import { Tx } from '../state/tx.service';
import { WorkerTypeRepository } from '../state/worker-type.repository';

export interface TerminateResult {
  current: string;
  previous: string;
}

/** Terminating instances and cancelling spot requests, in EC2 first and then in state. */
@Injectable()
export class TerminationService {
  private readonly log = new Logger(TerminationService.name);

  constructor(
    private readonly config: AppConfig,
    private readonly ec2: Ec2Gateway,
    private readonly spotRequests: SpotRequestService,
    private readonly instances: InstanceRepository,
    private readonly requests: SpotRequestRepository,
    private readonly workerTypes: WorkerTypeRepository,
    private readonly tx: Tx,
    private readonly tagging: TaggingService,
  ) {}

  /**
   * Every instance and spot request of the worker type, in every region: those in state and those EC2
   * knows under the worker type's key names (a launch whose event has not arrived yet is caught too),
   * exactly this worker type and nothing else. Requests are cancelled first so that none is fulfilled
   * while the instances go, and the instances they launched go too.
   */
  async terminateWorkerType(workerType: string): Promise<void> {
    const inState = new Map((await this.workerTypes.resourcesByRegion(workerType)).map((r) => [r.region, r]));
    const notYet = await Promise.all(
      this.config.regions.map(async (region) => {
        const [ec2Instances, ec2Requests] = await Promise.all([
          this.ec2.instancesOfWorkerType(region, workerType),
          this.ec2.spotRequestsOfWorkerType(region, workerType),
        ]);
        const own = (ids: string[]): Owned[] => ids.map((id) => ({ id, workerType }));
        const requests = dedupe([...own(inState.get(region)?.requests ?? []), ...ec2Requests]);
        // A fulfilled request names its instance, which describe may not list yet (it lags launches): ours
        // too, launched with the request's key.
        const fulfilled = own(ec2Requests.flatMap((r) => (r.instanceId ? [r.instanceId] : [])));
        const cancelled = await this.spotRequests.cancel(region, requests);
        // Cancelled, a request launches nothing more; one fulfilled between the listing and the cancel keeps
        // its instance (cancelling does not end it): EC2 says which, unless it does not list the request yet.
        const after = await this.ec2.describeSpotRequests(
          region,
          cancelled.cancelled.map((c) => c.id),
        );
        const launchedBy = own(after.ours.flatMap((r) => (r.instanceId ? [r.instanceId] : [])));
        const instances = dedupe([
          ...own(inState.get(region)?.instances ?? []),
          ...ec2Instances,
          ...fulfilled,
          ...launchedBy,
        ]);
        await this.tagging.tagBeforeEnding(region, [...instances, ...ec2Instances]);
        const terminated = await this.ec2.terminateInstances(region, instances);
        // One already ending when we asked was not ended by us: EC2's StateReason will say why.
        const [ended, ending] = partition(terminated.terminated, endedByUs);
        await this.tx.run((m) =>
          this.instances.removeWithCause(
            region,
            ended.map((t) => t.id),
            { reason: 'terminate-worker-type', instances: ec2Instances },
            m,
          ),
        );
        await this.instances.removeMany(
          region,
          ending.map((t) => t.id),
        );
        // What EC2 refused as unknown is gone, unless EC2 may not know it yet (see `lagging`): such rows stay.
        const listed = new Set([...ec2Instances, ...ec2Requests, ...fulfilled, ...launchedBy].map((r) => r.id));
        const lagging = [
          ...(await this.lagging(region, terminated.unknown, cancelled.unknown, listed)),
          // Whether these launched an instance is not known yet.
          ...after.unknown,
        ];
        await this.instances.removeMany(
          region,
          terminated.unknown.filter((id) => !lagging.includes(id)),
        );
        await this.requests.removeMany(
          region,
          cancelled.unknown.filter((id) => !lagging.includes(id)),
        );
        if (requests.length + instances.length > 0) {
          this.log.log({
            msg: 'worker type terminated',
            workerType,
            region,
            instances: terminated.terminated.length,
            spotRequests: cancelled.cancelled.length,
            unknownInstances: terminated.unknown,
            unknownSpotRequests: cancelled.unknown,
            notListedYet: lagging,
          });
        }
        return lagging.map((id) => `${region}/${id}`);
      }),
    );
    const pending = notYet.flat();
    if (pending.length > 0) {
      throw new ServiceUnavailableError(
        `EC2 does not list ${pending.join(', ')} yet (its API lags launches); everything else of worker type ` +
          `${workerType} was done, try again`,
        { workerType, ids: pending, reason: 'describe-lag' },
        LAG_RETRY_AFTER_SECONDS,
      );
    }
  }

  /**
   * Of the ids EC2 refused as unknown, those it may not know yet: listed by its describe a moment ago, or
   * launched or created within the describe-lag grace. Neither done nor gone: the caller must ask again.
   */
  private async lagging(
    region: string,
    instanceIds: string[],
    requestIds: string[],
    listed: Set<string>,
  ): Promise<string[]> {
    const found = await Promise.all([
      ...instanceIds.map(async (id) =>
        listed.has(id) || this.young((await this.instances.find(region, id))?.launched) ? id : null,
      ),
      ...requestIds.map(async (id) =>
        listed.has(id) || this.young((await this.requests.find(region, id))?.created) ? id : null,
      ),
    ]);
    return found.filter((id): id is string => id !== null);
  }

  /**
   * `{current, previous}` states, or null when EC2 does not know the instance (it leaves state too).
   * Null is never an answer for an instance EC2 may still run: describe lags launches, so an id it does
   * not list is terminated when state says it is ours, and otherwise answered with a retryable 503 while
   * EC2 still knows it (its ownership cannot be checked until describe lists it).
   */
  async terminateInstance(region: string, id: string): Promise<TerminateResult | null> {
    const described = await this.ec2.describeInstances(region, [id]);
    if (described.foreign.includes(id)) {
      throw new ResourceNotFoundError(`instance ${id} in ${region} is not managed by this service`);
    }
    const row = await this.instances.find(region, id);
    const owned = described.ours[0] ?? row;
    if (!owned) {
      if (await this.ec2.instanceKnown(region, id)) throw notListedYet('instance', region, id);
      return null;
    }
    await this.tagging.tagBeforeEnding(region, [owned]);
    const { terminated } = await this.ec2.terminateInstances(region, [owned]);
    const change = terminated.find((t) => t.id === id);
    if (!change && (described.ours.length > 0 || this.young(row?.launched))) {
      throw notListedYet('instance', region, id);
    }
    if (change && endedByUs(change)) {
      const cause = { reason: 'terminate-instance' as const, instances: described.ours };
      await this.tx.run((m) => this.instances.removeWithCause(region, [id], cause, m));
    } else {
      await this.instances.remove(region, id);
    }
    if (!change) return null;
    this.log.log({ msg: 'instance terminated', region, instanceId: id });
    return { current: change.current, previous: change.previous };
  }

  /** `{current}` state, or null when EC2 does not know the request (it leaves state too); as terminateInstance. */
  async cancelSpotRequest(region: string, id: string): Promise<{ current: string } | null> {
    const described = await this.ec2.describeSpotRequests(region, [id]);
    if (described.foreign.includes(id)) {
      throw new ResourceNotFoundError(`spot instance request ${id} in ${region} is not managed by this service`);
    }
    const row = await this.requests.find(region, id);
    const owned = described.ours[0] ?? row;
    if (!owned) {
      if (await this.ec2.spotRequestKnown(region, id)) throw notListedYet('spot instance request', region, id);
      return null;
    }
    const { cancelled } = await this.spotRequests.cancel(region, [owned]);
    const change = cancelled.find((c) => c.id === id);
    if (!change && (described.ours.length > 0 || this.young(row?.created))) {
      throw notListedYet('spot instance request', region, id);
    }
    await this.requests.remove(region, id);
    if (!change) return null;
    this.log.log({ msg: 'spot request cancelled', region, spotRequestId: id });
    return { current: change.state };
  }

  /** Launched or created so recently that EC2's API may not know it yet (SPEC §6 describe-lag grace). */
  private young(since: Date | undefined): boolean {
    return since !== undefined && Date.now() - since.getTime() < this.config.describeLagGraceSeconds * 1000;
  }
}

/** How long a caller is told to wait for EC2's API to catch up with a launch. */
const LAG_RETRY_AFTER_SECONDS = 5;

function notListedYet(kind: string, region: string, id: string): ServiceUnavailableError {
  return new ServiceUnavailableError(
    `EC2 does not list ${kind} ${id} in ${region} yet (its API lags launches); nothing was done, try again`,
    { region, id, reason: 'describe-lag' },
    LAG_RETRY_AFTER_SECONDS,
  );
}

/** Whether our TerminateInstances ended it (it was not already on its way out). */
function endedByUs(t: Terminated): boolean {
  return t.previous !== 'shutting-down' && t.previous !== 'terminated';
}

function partition<T>(items: readonly T[], test: (item: T) => boolean): [T[], T[]] {
  return [items.filter(test), items.filter((i) => !test(i))];
}

function dedupe(items: Owned[]): Owned[] {
  return [...new Map(items.map((i) => [i.id, i])).values()];
}
