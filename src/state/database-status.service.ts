import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

@Injectable()
export class DatabaseStatusService {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** True when a migration of this build has not been applied to the database. */
  pendingMigrations(): Promise<boolean> {
    return this.db.showMigrations();
  }

  /** Pool counters for the internals API. */
  poolStats(): { total: number; idle: number; waiting: number } {
    const pool = (
      this.db.driver as unknown as { master?: { totalCount: number; idleCount: number; waitingCount: number } }
    ).master;
    return { total: pool?.totalCount ?? 0, idle: pool?.idleCount ?? 0, waiting: pool?.waitingCount ?? 0 };
  }
}
