import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

/** Work to do once a transaction of `Tx.run` has committed, by its EntityManager. */
const afterCommit = new WeakMap<EntityManager, (() => void)[]>();

/** Runs a function in one transaction; repositories take its EntityManager to join it. */
@Injectable()
export class Tx {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async run<T>(fn: (tx: EntityManager) => Promise<T>): Promise<T> {
    const hooks: (() => void)[] = [];
    const result = await this.db.transaction((m) => {
      afterCommit.set(m, hooks);
      return fn(m);
    });
    for (const hook of hooks) hook();
    return result;
  }

  /**
   * Runs reads on one snapshot (REPEATABLE READ): every query sees the database as of the first one,
   * so that an answer made of several queries is true of one moment.
   */
  snapshot<T>(fn: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction('REPEATABLE READ', fn);
  }

  /**
   * Calls `hook` once the transaction of `m` (one of `run`) has committed, and never if it rolls back:
   * e.g. to wake a worker for rows the transaction wrote, which no other connection sees before the
   * commit. Returns false, calling nothing, when `m` is no transaction of `run`. The hook must not throw.
   */
  afterCommit(m: EntityManager, hook: () => void): boolean {
    const hooks = afterCommit.get(m);
    if (!hooks) return false;
    hooks.push(hook);
    return true;
  }
}
