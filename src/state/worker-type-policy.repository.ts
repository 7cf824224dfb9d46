import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { WorkerTypePolicy } from './entities';
import { tableOf } from './table';

export type PolicyFields = Omit<WorkerTypePolicy, 'workerType' | 'updated'>;

/** Room granted under `maxInstances`: `reservation` is null when the worker type has no cap. */
export interface Grant {
  granted: number;
  /** The cap and what counted against it when the grant was decided; null without a cap. */
  limit: { maxInstances: number; counted: number } | null;
  reservation: string | null;
}

const POLICIES = tableOf(WorkerTypePolicy);

@Injectable()
export class WorkerTypePolicyRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async find(workerType: string, tx?: EntityManager): Promise<WorkerTypePolicy | null> {
    const [row]: WorkerTypePolicy[] = await (tx ?? this.db.manager).query(
      `SELECT ${POLICIES.select()} FROM worker_type_policies WHERE worker_type = $1`,
      [workerType],
    );
    return row ?? null;
  }

  /** Every policy with a zombie age of its own, for housekeeping. */
  withLifeHours(tx?: EntityManager): Promise<WorkerTypePolicy[]> {
    return (tx ?? this.db.manager).query(
      `SELECT ${POLICIES.select()} FROM worker_type_policies WHERE max_instance_life_hours IS NOT NULL`,
    );
  }

  async put(workerType: string, policy: PolicyFields, tx?: EntityManager): Promise<WorkerTypePolicy> {
    const [row]: WorkerTypePolicy[] = await (tx ?? this.db.manager).query(
      `INSERT INTO worker_type_policies (worker_type, max_instances, max_instance_life_hours, allowed_instance_types, updated)
       VALUES ($1, $2, $3, $4, clock_timestamp())
       ON CONFLICT (worker_type) DO UPDATE SET max_instances = EXCLUDED.max_instances,
         max_instance_life_hours = EXCLUDED.max_instance_life_hours,
         allowed_instance_types = EXCLUDED.allowed_instance_types, updated = EXCLUDED.updated
       RETURNING ${POLICIES.select()}`,
      [workerType, policy.maxInstances, policy.maxInstanceLifeHours, policy.allowedInstanceTypes],
    );
    return row;
  }

  /** True when there was a policy to delete. */
  async remove(workerType: string, tx?: EntityManager): Promise<boolean> {
    const [, count]: [unknown, number] = await (tx ?? this.db.manager).query(
      `DELETE FROM worker_type_policies WHERE worker_type = $1`,
      [workerType],
    );
    return count > 0;
  }

  /**
   * Takes room for up to `want` instances under the worker type's `maxInstances`: what is left after its
   * instances, open spot requests (every region) and the unexpired reservations of launches under way.
   * Decided under a transaction-scoped advisory lock per worker type, so that two launches on any
   * replicas decide one after the other and never both take the same room. The room is held by a
   * reservation row until the launch writes its instances (`release` in that transaction) or gives up;
   * a launch killed in between holds it only until `ttlSeconds` have passed. The lock lasts until `tx`
   * ends: the caller's transaction is the decision.
   */
  async reserve(workerType: string, want: number, ttlSeconds: number, tx: EntityManager): Promise<Grant> {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [`launch-policy:${workerType}`]);
    const policy = await this.find(workerType, tx);
    if (policy?.maxInstances === null || policy?.maxInstances === undefined) {
      return { granted: want, limit: null, reservation: null };
    }
    const [{ counted }]: { counted: number }[] = await tx.query(
      `SELECT ((SELECT count(*) FROM instances WHERE worker_type = $1)
             + (SELECT count(*) FROM spot_requests WHERE worker_type = $1)
             + (SELECT coalesce(sum(count), 0) FROM launch_reservations
                WHERE worker_type = $1 AND expires > clock_timestamp()))::int AS counted`,
      [workerType],
    );
    const granted = Math.max(0, Math.min(want, policy.maxInstances - counted));
    const limit = { maxInstances: policy.maxInstances, counted };
    if (granted === 0) return { granted, limit, reservation: null };
    const id = randomUUID();
    await tx.query(`DELETE FROM launch_reservations WHERE worker_type = $1 AND expires <= clock_timestamp()`, [
      workerType,
    ]);
    await tx.query(
      `INSERT INTO launch_reservations (id, worker_type, count, expires)
       VALUES ($1, $2, $3, clock_timestamp() + make_interval(secs => $4))`,
      [id, workerType, granted, ttlSeconds],
    );
    return { granted, limit, reservation: id };
  }

  /** Gives a reservation's room back: in the transaction that writes the launched instances, or after a failure. */
  async release(reservation: string | null, tx?: EntityManager): Promise<void> {
    if (reservation === null) return;
    await (tx ?? this.db.manager).query(`DELETE FROM launch_reservations WHERE id = $1`, [reservation]);
  }
}
