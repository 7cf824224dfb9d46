import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

export interface CountEntry {
  instanceType: string;
  count: number;
  type: 'instance' | 'spot-request';
}

export interface WorkerTypeCounts {
  pending: CountEntry[];
  running: CountEntry[];
}

export interface RegionResources {
  region: string;
  instances: string[];
  requests: string[];
}

/** Questions asked across instances and spot requests at once, by worker type. */
@Injectable()
export class WorkerTypeRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Worker types with any instance or spot request, sorted. */
  async list(tx?: EntityManager): Promise<string[]> {
    const rows: { wt: string }[] = await (tx ?? this.db.manager).query(
      `SELECT worker_type AS wt FROM instances UNION SELECT worker_type FROM spot_requests ORDER BY 1`,
    );
    return rows.map((r) => r.wt);
  }

  /**
   * running = instances in running; pending = instances in pending plus open spot requests; both
   * grouped by instance type (SPEC §3).
   */
  async counts(workerType: string, tx?: EntityManager): Promise<WorkerTypeCounts> {
    const rows: { bucket: 'pending' | 'running'; type: CountEntry['type']; instanceType: string; count: string }[] =
      await (tx ?? this.db.manager).query(
        `SELECT state AS bucket, 'instance' AS type, instance_type AS "instanceType", count(*) AS count
           FROM instances WHERE worker_type = $1 GROUP BY state, instance_type
         UNION ALL
         SELECT 'pending', 'spot-request', instance_type, count(*)
           FROM spot_requests WHERE worker_type = $1 AND state = 'open' GROUP BY instance_type
         ORDER BY 1, 2, 3`,
        [workerType],
      );
    const result: WorkerTypeCounts = { pending: [], running: [] };
    for (const r of rows) {
      result[r.bucket].push({ instanceType: r.instanceType, count: Number(r.count), type: r.type });
    }
    return result;
  }

  /** Ids of a worker type's instances and spot requests, per region that has any. */
  async resourcesByRegion(workerType: string, tx?: EntityManager): Promise<RegionResources[]> {
    const rows: { region: string; kind: 'i' | 'r'; ids: string[] }[] = await (tx ?? this.db.manager).query(
      `SELECT region, 'i' AS kind, array_agg(id ORDER BY id) AS ids FROM instances WHERE worker_type = $1 GROUP BY region
       UNION ALL
       SELECT region, 'r', array_agg(id ORDER BY id) FROM spot_requests WHERE worker_type = $1 GROUP BY region
       ORDER BY 1`,
      [workerType],
    );
    const byRegion = new Map<string, RegionResources>();
    for (const r of rows) {
      const entry = byRegion.get(r.region) ?? { region: r.region, instances: [], requests: [] };
      if (r.kind === 'i') entry.instances = r.ids;
      else entry.requests = r.ids;
      byRegion.set(r.region, entry);
    }
    return [...byRegion.values()];
  }
}
