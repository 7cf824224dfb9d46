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
}
