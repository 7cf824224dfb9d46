import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { TerminationNotice } from './entities';
import { tableOf } from './table';

export type NewTerminationNotice = Omit<TerminationNotice, 'received' | 'instance'> & { received?: Date };

export interface WorkerTypeNotice extends NewTerminationNotice {
  received: Date;
  workerType: string;
}

const NOTICES = tableOf(TerminationNotice);

@Injectable()
export class TerminationNoticeRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Records a notice for an instance in state; a repeated notice of the same kind is refreshed.
   * Returns false when the instance is not in state (nothing to attach it to).
   */
  async record(notice: NewTerminationNotice, tx?: EntityManager): Promise<boolean> {
    const rows: unknown[] = await (tx ?? this.db.manager).query(
      `INSERT INTO termination_notices (region, instance_id, kind, action, not_before, received)
       SELECT $1, $2, $3, $4, $5, coalesce($6, clock_timestamp())
       WHERE EXISTS (SELECT 1 FROM instances WHERE region = $1 AND id = $2)
       ON CONFLICT (region, instance_id, kind) DO UPDATE SET
         action = EXCLUDED.action, not_before = EXCLUDED.not_before, received = EXCLUDED.received
       RETURNING 1`,
      [notice.region, notice.instanceId, notice.kind, notice.action, notice.notBefore, notice.received ?? null],
    );
    return rows.length === 1;
  }

  /** Notices for a worker type's instances, newest first. */
  listForWorkerType(workerType: string, tx?: EntityManager): Promise<WorkerTypeNotice[]> {
    return (tx ?? this.db.manager).query(
      `SELECT ${NOTICES.select('n')}, i.worker_type AS "workerType"
       FROM termination_notices n JOIN instances i ON i.region = n.region AND i.id = n.instance_id
       WHERE i.worker_type = $1 ORDER BY n.received DESC, n.region, n.instance_id, n.kind`,
      [workerType],
    );
  }

  async remove(region: string, instanceId: string, tx?: EntityManager): Promise<number> {
    const [, count]: [unknown, number] = await (tx ?? this.db.manager).query(
      `DELETE FROM termination_notices WHERE region = $1 AND instance_id = $2`,
      [region, instanceId],
    );
    return count;
  }
}
