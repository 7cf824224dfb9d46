import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * Room taken under a worker type's `maxInstances` by a launch that has asked EC2 but not yet written
 * its instances to state. Counted beside them until the launch writes them (and deletes this row in the
 * same transaction) or gives up; a process killed in between leaves a row that stops counting at
 * `expires`.
 */
@Entity({ name: 'launch_reservations' })
@Index('launch_reservations_worker_type_idx', ['workerType'])
export class LaunchReservation {
  @PrimaryColumn({ type: 'uuid' }) id!: string;
  @Column({ name: 'worker_type', type: 'text' }) workerType!: string;
  @Column({ type: 'integer' }) count!: number;
  @Column({ type: 'timestamptz' }) expires!: Date;
}
