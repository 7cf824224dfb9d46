import {
  CancelSpotInstanceRequestsCommand,
  DescribeInstancesCommand,
  DescribeSpotInstanceRequestsCommand,
  EC2Client,
  paginateDescribeInstances,
  paginateDescribeSpotInstanceRequests,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { Injectable, Logger } from '@nestjs/common';
import { hasAwsErrorCode } from '../aws/aws-error';
import { AwsClients } from '../aws/aws-clients.service';
import { isOurs } from '../aws/naming';
import { ResourceNotFoundError } from '../common/errors';
import { AppConfig } from '../config/app-config';
import { InstanceRepository } from '../state/instance.repository';
import { SpotRequestRepository } from '../state/spot-request.repository';
import { WorkerTypeRepository } from '../state/worker-type.repository';

/** Ids per EC2 call: well under EC2's limits, so one bad batch costs little. */
const TERMINATE_BATCH = 500;
const CANCEL_BATCH = 100;

const INSTANCE_NOT_FOUND = 'InvalidInstanceID.NotFound';
const REQUEST_NOT_FOUND = 'InvalidSpotInstanceRequestID.NotFound';

export interface TerminateResult {
  current: string;
  previous: string;
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Ids EC2 names in a NotFound answer (it fails the whole call for them). */
function idsInMessage(message: string): Set<string> {
  return new Set(message.match(/\b(i|sir)-[0-9a-z]+\b/g) ?? []);
}

/**
 * Runs a batched call; when EC2 refuses it because some ids no longer exist, runs it again without
 * them. Returns the ids EC2 did not know.
 */
async function withoutMissing(
  ids: string[],
  code: string,
  call: (ids: string[]) => Promise<unknown>,
): Promise<string[]> {
  let remaining = ids;
  const missing: string[] = [];
  for (let attempt = 0; remaining.length > 0; attempt++) {
    try {
      await call(remaining);
      return missing;
    } catch (err) {
      if (!hasAwsErrorCode(err, code) || attempt > 2) throw err;
      const named = idsInMessage((err as Error).message);
      const gone = remaining.filter((id) => named.has(id));
      if (gone.length === 0) throw err;
      missing.push(...gone);
      remaining = remaining.filter((id) => !named.has(id));
    }
  }
  return missing;
}

/** Terminating instances and cancelling spot requests, in EC2 first and then in state. */
@Injectable()
export class TerminationService {
  private readonly log = new Logger(TerminationService.name);

  constructor(
    private readonly config: AppConfig,
    private readonly aws: AwsClients,
    private readonly instances: InstanceRepository,
    private readonly requests: SpotRequestRepository,
    private readonly workerTypes: WorkerTypeRepository,
  ) {}

  /**
   * Every instance and spot request of the worker type, in every region: those in state and those EC2
   * knows by the worker type's key names (a launch whose event has not arrived yet is caught too).
   * Requests are cancelled first so that none is fulfilled while the instances go.
   */
  async terminateWorkerType(workerType: string): Promise<void> {
    const inState = new Map((await this.workerTypes.resourcesByRegion(workerType)).map((r) => [r.region, r]));
    await Promise.all(
      this.config.regions.map(async (region) => {
        const ec2 = this.aws.ec2(region);
        const known = await this.describeWorkerType(ec2, workerType);
        const requests = [...new Set([...(inState.get(region)?.requests ?? []), ...known.requests])];
        const instances = [...new Set([...(inState.get(region)?.instances ?? []), ...known.instances])];
        for (const batch of chunks(requests, CANCEL_BATCH)) {
          await withoutMissing(batch, REQUEST_NOT_FOUND, (ids) =>
            ec2.send(new CancelSpotInstanceRequestsCommand({ SpotInstanceRequestIds: ids })),
          );
          await this.requests.removeMany(region, batch);
        }
        for (const batch of chunks(instances, TERMINATE_BATCH)) {
          await withoutMissing(batch, INSTANCE_NOT_FOUND, (ids) =>
            ec2.send(new TerminateInstancesCommand({ InstanceIds: ids })),
          );
          await this.instances.removeMany(region, batch);
        }
        if (requests.length + instances.length > 0) {
          this.log.log({
            msg: 'worker type terminated',
            workerType,
            region,
            instances: instances.length,
            spotRequests: requests.length,
          });
        }
      }),
    );
  }

  /** `{current, previous}` states, or null when EC2 no longer knows the instance (it is gone from state too). */
  async terminateInstance(region: string, id: string): Promise<TerminateResult | null> {
    const ec2 = this.aws.ec2(region);
    try {
      const { Reservations = [] } = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
      const instance = Reservations.flatMap((r) => r.Instances ?? []).find((i) => i.InstanceId === id);
      if (instance && !isOurs(instance.KeyName, this.config.managerId)) {
        throw new ResourceNotFoundError(`instance ${id} in ${region} is not managed by this service`);
      }
      const { TerminatingInstances = [] } = await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
      await this.instances.remove(region, id);
      const change = TerminatingInstances.find((c) => c.InstanceId === id);
      this.log.log({ msg: 'instance terminated', region, instanceId: id });
      return {
        current: change?.CurrentState?.Name ?? 'shutting-down',
        previous: change?.PreviousState?.Name ?? 'unknown',
      };
    } catch (err) {
      if (!hasAwsErrorCode(err, INSTANCE_NOT_FOUND)) throw err;
      await this.instances.remove(region, id);
      return null;
    }
  }

  /** `{current}` state, or null when EC2 no longer knows the request (it is gone from state too). */
  async cancelSpotRequest(region: string, id: string): Promise<{ current: string } | null> {
    const ec2 = this.aws.ec2(region);
    try {
      const { SpotInstanceRequests = [] } = await ec2.send(
        new DescribeSpotInstanceRequestsCommand({ SpotInstanceRequestIds: [id] }),
      );
      const request = SpotInstanceRequests.find((r) => r.SpotInstanceRequestId === id);
      if (request && !isOurs(request.LaunchSpecification?.KeyName, this.config.managerId)) {
        throw new ResourceNotFoundError(`spot instance request ${id} in ${region} is not managed by this service`);
      }
      const { CancelledSpotInstanceRequests = [] } = await ec2.send(
        new CancelSpotInstanceRequestsCommand({ SpotInstanceRequestIds: [id] }),
      );
      await this.requests.remove(region, id);
      this.log.log({ msg: 'spot request cancelled', region, spotRequestId: id });
      return {
        current: CancelledSpotInstanceRequests.find((c) => c.SpotInstanceRequestId === id)?.State ?? 'cancelled',
      };
    } catch (err) {
      if (!hasAwsErrorCode(err, REQUEST_NOT_FOUND)) throw err;
      await this.requests.remove(region, id);
      return null;
    }
  }

  /** Live instances and open or active requests EC2 knows under the worker type's key names (any key hash). */
  private async describeWorkerType(
    ec2: EC2Client,
    workerType: string,
  ): Promise<{ instances: string[]; requests: string[] }> {
    const keyNames = `${this.config.managerId}:${workerType}:*`;
    const instances: string[] = [];
    for await (const page of paginateDescribeInstances(
      { client: ec2, pageSize: 1000 },
      {
        Filters: [
          { Name: 'key-name', Values: [keyNames] },
          { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
        ],
      },
    )) {
      for (const r of page.Reservations ?? [])
        for (const i of r.Instances ?? []) if (i.InstanceId) instances.push(i.InstanceId);
    }
    const requests: string[] = [];
    for await (const page of paginateDescribeSpotInstanceRequests(
      { client: ec2, pageSize: 1000 },
      {
        Filters: [
          { Name: 'launch.key-name', Values: [keyNames] },
          { Name: 'state', Values: ['open', 'active'] },
        ],
      },
    )) {
      for (const r of page.SpotInstanceRequests ?? [])
        if (r.SpotInstanceRequestId) requests.push(r.SpotInstanceRequestId);
    }
    return { instances, requests };
  }
}
