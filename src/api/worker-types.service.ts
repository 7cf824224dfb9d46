import { Injectable } from '@nestjs/common';
import { TurnBatch } from '../common/turn-batch';
import { FailedSpotRequestRepository } from '../state/failed-spot-request.repository';
import { InstanceRepository } from '../state/instance.repository';
import { SpotRequestRepository } from '../state/spot-request.repository';
import { TerminationNoticeRepository } from '../state/termination-notice.repository';
import { Tx } from '../state/tx.service';
import { LaunchHealthService } from './launch-health.service';
import { WorkerTypeRepository } from '../state/worker-type.repository';
import {
  toInstanceDto,
  toSpotRequestDto,
  toStatsDto,
  WorkerTypeHealthDto,
  WorkerTypeStateDto,
  WorkerTypeStatsDto,
} from './dto/state.dto';

/** What the state database says about worker types. */
@Injectable()
export class WorkerTypesService {
  constructor(
    private readonly workerTypes: WorkerTypeRepository,
    private readonly instances: InstanceRepository,
    private readonly requests: SpotRequestRepository,
    private readonly notices: TerminationNoticeRepository,
    private readonly failures: FailedSpotRequestRepository,
    private readonly tx: Tx,
    private readonly launchHealth: LaunchHealthService,
  ) {}

  /**
   * Provisioners poll stats for every worker type every few seconds: the requests that arrive in one
   * turn of the event loop share one statement (and one pool connection) instead of queueing for a
   * connection each. Still read after each request arrived, so exact when answered (issue #15).
   */
  private readonly counts = new TurnBatch((workerTypes: string[]) => this.workerTypes.countsOf(workerTypes));

  list(): Promise<string[]> {
    return this.workerTypes.list();
  }

  async stats(workerType: string): Promise<WorkerTypeStatsDto> {
    return toStatsDto(await this.counts.get(workerType));
  }

  /** One snapshot: an instance fulfilling a request between the two lists must not vanish from both. */
  async state(workerType?: string): Promise<WorkerTypeStateDto> {
    const { instances, requests } = await this.tx.snapshot(async (m) => ({
      instances: await this.instances.list({ workerType }, m),
      requests: await this.requests.list({ workerType }, m),
    }));
    return { instances: instances.map(toInstanceDto), requests: requests.map(toSpotRequestDto) };
  }

  async health(workerType: string): Promise<WorkerTypeHealthDto> {
    const [notices, failed, launchHealth] = await Promise.all([
      this.notices.listForWorkerType(workerType),
      this.failures.recentForWorkerType(workerType),
      this.launchHealth.health(workerType),
    ]);
    return {
      workerType,
      terminationNotices: notices.map((n) => ({
        region: n.region,
        instanceId: n.instanceId,
        kind: n.kind,
        action: n.action,
        notBefore: n.notBefore,
        received: n.received,
      })),
      capacityCooldowns: launchHealth.capacityCooldowns.map(({ workerType: _wt, ...c }) => c),
      failedRequests: failed.map(({ workerType: _wt, ...f }) => f),
      launches: launchHealth.launches.map(({ workerType: _wt, ...l }) => l),
      quotaCooldowns: launchHealth.quotaCooldowns,
      lastErrors: launchHealth.lastErrors.map(({ workerType: _wt, ...e }) => e),
    };
  }
}
