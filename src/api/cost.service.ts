import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { CostRepository, DailyCost, PoolRate } from '../state/cost.repository';

export interface WorkerTypeCost {
  workerType: string;
  /** USD per hour of every instance in state, each at its pool's current price. */
  ratePerHour: number;
  pools: (PoolRate & { ratePerHour: number })[];
  /** Instances in state whose pool has no known price yet (they count for nothing above). */
  unpricedInstances: number;
  retentionDays: number;
  days: DailyCost[];
}

/** What a worker type costs (SPEC §12): now, and per day over the retention window. */
@Injectable()
export class CostService {
  constructor(
    private readonly config: AppConfig,
    private readonly costs: CostRepository,
  ) {}

  async workerTypeCost(workerType: string): Promise<WorkerTypeCost> {
    const retentionDays = this.config.historyRetentionDays;
    const [rates, days] = await Promise.all([
      this.costs.poolRates(workerType),
      this.costs.dailyCost(workerType, retentionDays),
    ]);
    const pools = rates.map((p) => ({ ...p, ratePerHour: (p.hourlyPrice ?? 0) * p.count }));
    return {
      workerType,
      ratePerHour: pools.reduce((sum, p) => sum + p.ratePerHour, 0),
      pools,
      unpricedInstances: pools.filter((p) => p.hourlyPrice === null).reduce((n, p) => n + p.count, 0),
      retentionDays,
      days,
    };
  }
}
