import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Pool, PoolClient } from 'pg';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';

/**
 * Gives every new pooled connection an error listener of its own. pg-pool takes its listener off a
 * client as it hands it out, before the borrower can add one; when the server ends the connection in
 * the same packet that completed it (a database dropped or restarted at that instant), the error is
 * emitted to nobody and Node kills the process. Queries on the connection still fail as they should.
 */
@Injectable()
export class PoolGuard implements OnModuleInit {
  private readonly log = new Logger(PoolGuard.name);

  constructor(@InjectDataSource() private readonly db: DataSource) {}

  onModuleInit(): void {
    const pool = (this.db.driver as PostgresDriver).master as Pool | undefined;
    pool?.on('connect', (client: PoolClient) => {
      client.on('error', (err: Error) => this.log.warn({ msg: 'database connection lost', err }));
    });
  }
}
