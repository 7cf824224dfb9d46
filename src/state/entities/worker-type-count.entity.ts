import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * How many instances or spot requests a worker type has in one state and instance type, kept by the
 * triggers of migration 1765700000000 in the transactions that change those rows; never written by
 * the service itself. A count is the sum over `slot`: each database session adds to its own slot, so
 * that concurrent transactions never wait on one another's count (see the migration).
 */
@Entity({ name: 'worker_type_counts' })
export class WorkerTypeCount {
  @PrimaryColumn({ name: 'worker_type', type: 'text' }) workerType!: string;
  @PrimaryColumn({ type: 'text' }) kind!: 'instance' | 'spot-request';
  @PrimaryColumn({ type: 'text' }) state!: string;
  @PrimaryColumn({ name: 'instance_type', type: 'text' }) instanceType!: string;
  @PrimaryColumn({ type: 'integer' }) slot!: number;
  @Column({ type: 'bigint' }) count!: string;
}
