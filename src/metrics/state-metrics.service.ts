import { Injectable, OnModuleInit } from '@nestjs/common';
import { InstanceRepository } from '../state/instance.repository';
import { SpotRequestRepository } from '../state/spot-request.repository';
import { Metrics } from './metrics.service';

/** Instances and spot requests in state by region and state, counted at scrape time. */
@Injectable()
export class StateMetrics implements OnModuleInit {
  constructor(
    private readonly metrics: Metrics,
    private readonly instances: InstanceRepository,
    private readonly requests: SpotRequestRepository,
  ) {}

  onModuleInit(): void {
    this.metrics.gauge('instances', 'Instances in state by region and state', ['region', 'state'], async (set) => {
      for (const row of await this.instances.countByRegionAndState())
        set({ region: row.region, state: row.state }, row.count);
    });
    this.metrics.gauge(
      'spot_requests',
      'Spot requests in state by region, state and status',
      ['region', 'state', 'status'],
      async (set) => {
        for (const row of await this.requests.countByRegionAndState()) {
          set({ region: row.region, state: row.state, status: row.status }, row.count);
        }
      },
    );
  }
}
