import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * A spot request of ours that will never be fulfilled: cancelled by the poller for a status such as
 * `price-too-low`, or failed in EC2. Kept a while after it left `spot_requests` so that a provisioner
 * can see why its capacity never came (workerTypeHealth).
 */
@Entity({ name: 'failed_spot_requests' })
@Index('failed_spot_requests_worker_type_idx', ['workerType', 'failed'])
export class FailedSpotRequest {
  @PrimaryColumn({ type: 'text' }) region!: string;
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Column({ name: 'worker_type', type: 'text' }) workerType!: string;
  @Column({ type: 'text' }) az!: string;
  @Column({ name: 'instance_type', type: 'text' }) instanceType!: string;
  /** EC2's state when it was given up: `open` (then cancelled by us) or `failed`. */
  @Column({ type: 'text' }) state!: string;
  /** EC2's status code saying why, e.g. `price-too-low`, `bad-parameters`. */
  @Column({ type: 'text' }) status!: string;
  @Column({ type: 'timestamptz', default: () => 'now()' }) failed!: Date;
}
