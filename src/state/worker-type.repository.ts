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

  /**
   * Worker types with any instance or spot request, sorted. A skip scan of each table's worker-type
   * index: one descent per worker type, however many rows each has.
   */
  async list(tx?: EntityManager): Promise<string[]> {
    const rows: { wt: string }[] = await (tx ?? this.db.manager).query(
      `WITH RECURSIVE i(wt) AS (
         SELECT min(worker_type) FROM instances
         UNION ALL
         SELECT (SELECT min(worker_type) FROM instances WHERE worker_type > i.wt) FROM i WHERE i.wt IS NOT NULL
       ), s(wt) AS (
         SELECT min(worker_type) FROM spot_requests
         UNION ALL
         SELECT (SELECT min(worker_type) FROM spot_requests WHERE worker_type > s.wt) FROM s WHERE s.wt IS NOT NULL
       )
       SELECT wt FROM i WHERE wt IS NOT NULL UNION SELECT wt FROM s WHERE wt IS NOT NULL ORDER BY 1`,
    );
    return rows.map((r) => r.wt);
  }

  /**
   * running = instances in running; pending = instances in pending plus open spot requests; both
   * grouped by instance type (SPEC §3). Read from the counts the triggers keep (`WorkerTypeCount`):
   * a few rows per worker type, and exact, since they change in the transactions that change the rows.
   */
  async counts(workerType: string, tx?: EntityManager): Promise<WorkerTypeCounts> {
    return (await this.countsOf([workerType], tx)).get(workerType)!;
  }

  /** `counts` of several worker types in one statement (every one asked has an entry, maybe empty). */
  async countsOf(workerTypes: string[], tx?: EntityManager): Promise<Map<string, WorkerTypeCounts>> {
    const rows: {
      workerType: string;
      bucket: 'pending' | 'running';
      type: CountEntry['type'];
      instanceType: string;
      count: string;
    }[] = await (tx ?? this.db.manager).query(
      `SELECT worker_type AS "workerType", CASE kind WHEN 'instance' THEN state ELSE 'pending' END AS bucket,
              kind AS type, instance_type AS "instanceType", sum(count) AS count
         FROM worker_type_counts
        WHERE worker_type = ANY($1)
          AND (kind = 'instance' AND state IN ('pending', 'running') OR kind = 'spot-request' AND state = 'open')
        GROUP BY worker_type, kind, state, instance_type
       HAVING sum(count) <> 0
        ORDER BY 1, 2, 3, 4`,
      [workerTypes],
    );
    const result = new Map<string, WorkerTypeCounts>(workerTypes.map((wt) => [wt, { pending: [], running: [] }]));
    for (const r of rows) {
      result.get(r.workerType)![r.bucket].push({ instanceType: r.instanceType, count: Number(r.count), type: r.type });
    }
    return result;
  }

  /** The counts of every worker type as SPEC §3 defines them (`pending`, `running`), by kind, for the metrics. */
  async countsOfAll(
    tx?: EntityManager,
  ): Promise<{ workerType: string; bucket: 'pending' | 'running'; type: CountEntry['type']; count: number }[]> {
    const rows: { workerType: string; bucket: 'pending' | 'running'; type: CountEntry['type']; count: string }[] =
      await (tx ?? this.db.manager).query(
        `SELECT worker_type AS "workerType", CASE kind WHEN 'instance' THEN state ELSE 'pending' END AS bucket,
                kind AS type, sum(count) AS count
           FROM worker_type_counts
          WHERE kind = 'instance' AND state IN ('pending', 'running') OR kind = 'spot-request' AND state = 'open'
          GROUP BY worker_type, kind, state
         HAVING sum(count) <> 0
          ORDER BY 1, 2, 3`,
      );
    return rows.map((r) => ({ ...r, count: Number(r.count) }));
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
