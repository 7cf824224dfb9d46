import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** Statuses under which EC2 may still fulfil an open request: the ones the poller watches. */
export const POLLED_SPOT_STATUSES = ['pending-evaluation', 'pending-fulfillment'] as const;

/** A spot request of ours that is not yet fulfilled, i.e. pending capacity. */
@Entity({ name: 'spot_requests' })
@Index('spot_requests_worker_type_idx', ['workerType'])
@Index('spot_requests_poll_idx', ['state', 'status'])
export class SpotRequest {
  @PrimaryColumn({ type: 'text' }) region!: string;
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Column({ name: 'worker_type', type: 'text' }) workerType!: string;
  @Column({ type: 'text' }) az!: string;
  @Column({ name: 'instance_type', type: 'text' }) instanceType!: string;
  /** EC2's state: open, active, closed, cancelled, failed. */
  @Column({ type: 'text' }) state!: string;
  /** EC2's status code, e.g. pending-evaluation. */
  @Column({ type: 'text' }) status!: string;
  @Column({ name: 'image_id', type: 'text' }) imageId!: string;
  @Column({ type: 'timestamptz' }) created!: Date;
  @Column({ type: 'timestamptz', default: () => 'now()' }) touched!: Date;
}
