import { Injectable, OnModuleInit } from '@nestjs/common';
import { CapacityCooldownRepository } from '../state/capacity-cooldown.repository';
import { InstanceRepository } from '../state/instance.repository';
import { JobRunRepository } from '../state/job-run.repository';
import { PendingTagRepository } from '../state/pending-tag.repository';
import { SpotRequestRepository } from '../state/spot-request.repository';
import { Metrics } from './metrics.service';

/** Instances and spot requests in state, the cooldowns running, and how long ago each job last succeeded, read at scrape time. */
@Injectable()
export class StateMetrics implements OnModuleInit {
  constructor(
    private readonly metrics: Metrics,
    private readonly instances: InstanceRepository,
    private readonly requests: SpotRequestRepository,
    private readonly cooldowns: CapacityCooldownRepository,
    private readonly runs: JobRunRepository,
    private readonly pendingTags: PendingTagRepository,
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
    this.metrics.gauge(
      'cooldowns_active',
      'Cooldowns running now (SPEC §11): capacity ones count pools, quota ones (region, lifecycle)',
      ['kind', 'region', 'lifecycle'],
      async (set) => {
        const [capacity, quota] = await Promise.all([this.cooldowns.active(), this.cooldowns.activeQuota()]);
        const counts = new Map<string, { kind: string; region: string; lifecycle: string; n: number }>();
        for (const c of [
          ...capacity.map((x) => ({ kind: 'capacity', region: x.region, lifecycle: x.lifecycle })),
          ...quota.map((x) => ({ kind: 'quota', region: x.region, lifecycle: x.lifecycle })),
        ]) {
          const key = `${c.kind}|${c.region}|${c.lifecycle}`;
          const entry = counts.get(key) ?? { ...c, n: 0 };
          entry.n++;
          counts.set(key, entry);
        }
        for (const c of counts.values()) set({ kind: c.kind, region: c.region, lifecycle: c.lifecycle }, c.n);
      },
    );
    this.metrics.gauge(
      'resources_awaiting_tags',
      'Resources of ours found untagged and not tagged yet, by region',
      ['region'],
      async (set) => {
        for (const row of await this.pendingTags.countByRegion()) set({ region: row.region }, row.count);
      },
    );
    this.metrics.gauge(
      'resources_awaiting_tags_oldest_seconds',
      'How long the oldest resource still awaiting its tags has waited, by region',
      ['region'],
      async (set) => {
        for (const row of await this.pendingTags.countByRegion()) set({ region: row.region }, row.oldestSeconds);
      },
    );
    this.metrics.gauge(
      'job_last_success_age_seconds',
      'Seconds since each periodic job last finished a run successfully, on any replica',
      ['job'],
      async (set) => {
        for (const row of await this.runs.secondsSinceSuccess()) set({ job: row.name }, row.seconds);
      },
    );
  }
}
