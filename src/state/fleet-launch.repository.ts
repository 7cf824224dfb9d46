import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { FleetLaunch } from './entities';
import { tableOf } from './table';

const FLEET_LAUNCHES = tableOf(FleetLaunch);

/** The stored answers of launchFleet, by (region, ClientToken) (SPEC §11 idempotency). */
@Injectable()
export class FleetLaunchRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async find(region: string, clientToken: string, tx?: EntityManager): Promise<FleetLaunch | null> {
    const [row]: FleetLaunch[] = await (tx ?? this.db.manager).query(
      `SELECT ${FLEET_LAUNCHES.select()} FROM fleet_launches WHERE region = $1 AND client_token = $2`,
      [region, clientToken],
    );
    return row ?? null;
  }

  /** Keeps the first answer stored under the token: a concurrent twin of the request got the same one from EC2. */
  async store(row: Omit<FleetLaunch, 'created'>, tx?: EntityManager): Promise<void> {
    await (tx ?? this.db.manager).query(
      `INSERT INTO fleet_launches (region, client_token, worker_type, body_hash, answer, created)
       VALUES ($1, $2, $3, $4, $5, clock_timestamp()) ON CONFLICT (region, client_token) DO NOTHING`,
      [row.region, row.clientToken, row.workerType, row.bodyHash, JSON.stringify(row.answer)],
    );
  }
}
