import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { ResourceFilter, resourceWhere } from './resource-filter';
import { POLLED_SPOT_STATUSES, SpotRequest } from './entities';
import { tableOf } from './table';

export type NewSpotRequest = Omit<SpotRequest, 'touched'>;

export type SpotRequestFilter = ResourceFilter;

export interface RegionIds {
  region: string;
  values: string[];
}

const SPOT_REQUESTS = tableOf(SpotRequest);
/** A spot request as we write it; `touched` is the database's clock at the write. */
export const SPOT_REQUEST_ROWS = SPOT_REQUESTS.rows('touched');

@Injectable()
export class SpotRequestRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Records a new request; a request we already know is refreshed (a retried launch). */
  async upsert(row: NewSpotRequest, tx?: EntityManager): Promise<void> {
    await this.upsertMany([row], tx);
  }

  /**
   * Bulk form of `upsert`. A request whose instance is already in state was fulfilled: it is not
   * pending capacity, so it is not (re)inserted (SPEC §3).
   */
  async upsertMany(rows: NewSpotRequest[], tx?: EntityManager): Promise<void> {
    if (rows.length === 0) return;
    await (tx ?? this.db.manager).query(
      `INSERT INTO spot_requests (${SPOT_REQUEST_ROWS.columns}, touched)
       SELECT ${SPOT_REQUEST_ROWS.select}, clock_timestamp() FROM ${SPOT_REQUEST_ROWS.source()}
       WHERE NOT EXISTS (SELECT 1 FROM instances i WHERE i.region = r.region AND i.spot_request_id = r.id)
       ON CONFLICT (${SPOT_REQUESTS.primaryKey}) DO UPDATE SET ${SPOT_REQUEST_ROWS.updateAll}, touched = clock_timestamp()`,
      SPOT_REQUEST_ROWS.values(rows),
    );
  }

  /** Updates EC2's state and status of a known request; false when it is not in state. */
  async updateStatus(region: string, id: string, state: string, status: string, tx?: EntityManager): Promise<boolean> {
    const [, count]: [unknown, number] = await (tx ?? this.db.manager).query(
      `UPDATE spot_requests SET state = $3, status = $4, touched = clock_timestamp() WHERE region = $1 AND id = $2`,
      [region, id, state, status],
    );
    return count === 1;
  }

  /** Bulk form of `updateStatus` for one region; returns how many rows were there. */
  async updateStatuses(
    region: string,
    rows: { id: string; state: string; status: string }[],
    tx?: EntityManager,
  ): Promise<number> {
    if (rows.length === 0) return 0;
    const [, count]: [unknown, number] = await (tx ?? this.db.manager).query(
      `UPDATE spot_requests s SET state = u.state, status = u.status, touched = clock_timestamp()
       FROM unnest($2::text[], $3::text[], $4::text[]) AS u(id, state, status)
       WHERE s.region = $1 AND s.id = u.id AND (s.state <> u.state OR s.status <> u.status)`,
      [region, rows.map((r) => r.id), rows.map((r) => r.state), rows.map((r) => r.status)],
    );
    return count;
  }

  async remove(region: string, id: string, tx?: EntityManager): Promise<boolean> {
    return (await this.removeMany(region, [id], tx)) === 1;
  }

  async removeMany(region: string, ids: string[], tx?: EntityManager): Promise<number> {
    if (ids.length === 0) return 0;
    const [, count]: [unknown, number] = await (tx ?? this.db.manager).query(
      `DELETE FROM spot_requests WHERE region = $1 AND id = ANY($2::text[])`,
      [region, ids],
    );
    return count;
  }

  async find(region: string, id: string, tx?: EntityManager): Promise<SpotRequest | null> {
    const [row] = await this.list({ region, ids: [id] }, tx);
    return row ?? null;
  }

  async list(filter: SpotRequestFilter = {}, tx?: EntityManager): Promise<SpotRequest[]> {
    const { clause, params } = resourceWhere(filter);
    return (tx ?? this.db.manager).query(
      `SELECT ${SPOT_REQUESTS.select()} FROM spot_requests ${clause} ORDER BY region, id`,
      params,
    );
  }

  /** Open requests EC2 may still fulfil, per region (SPEC §3); every configured region is listed. */
  async toPoll(regions: readonly string[], tx?: EntityManager): Promise<RegionIds[]> {
    const rows: { region: string; ids: string[] }[] = await (tx ?? this.db.manager).query(
      `SELECT region, array_agg(id ORDER BY id) AS ids FROM spot_requests
       WHERE state = 'open' AND status = ANY($1::text[]) AND region = ANY($2::text[])
       GROUP BY region`,
      [POLLED_SPOT_STATUSES, regions],
    );
    const byRegion = new Map(rows.map((r) => [r.region, r.ids]));
    return regions.map((region) => ({ region, values: byRegion.get(region) ?? [] }));
  }

  /** Row counts by region, state and status, for the metrics gauges. */
  async countByRegionAndState(
    tx?: EntityManager,
  ): Promise<{ region: string; state: string; status: string; count: number }[]> {
    const rows: { region: string; state: string; status: string; count: string }[] = await (
      tx ?? this.db.manager
    ).query(
      `SELECT region, state, status, count(*) AS count FROM spot_requests
       GROUP BY region, state, status ORDER BY region, state, status`,
    );
    return rows.map((r) => ({ ...r, count: Number(r.count) }));
  }
}
