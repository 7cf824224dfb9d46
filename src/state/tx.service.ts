import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

/** Runs a function in one transaction; repositories take its EntityManager to join it. */
@Injectable()
export class Tx {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  run<T>(fn: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(fn);
  }

  /**
   * Runs reads on one snapshot (REPEATABLE READ): every query sees the database as of the first one,
   * so that an answer made of several queries is true of one moment.
   */
  snapshot<T>(fn: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction('REPEATABLE READ', fn);
  }
}
