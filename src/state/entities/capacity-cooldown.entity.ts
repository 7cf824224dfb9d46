import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A spot pool EC2 recently could not fill (SPEC §5): provisioners should stop asking for it until
 * `until`. `az` is `*` when the failed request named no zone: the whole region's pool was short.
 * Kept in Postgres so that every replica serves the same answer, whichever one runs the poller.
 */
@Entity({ name: 'capacity_cooldowns' })
export class CapacityCooldown {
  @PrimaryColumn({ type: 'text' }) region!: string;
  @PrimaryColumn({ type: 'text' }) az!: string;
  @PrimaryColumn({ name: 'instance_type', type: 'text' }) instanceType!: string;
  @Column({ type: 'timestamptz' }) until!: Date;
  /** EC2's status code of the request that caused it, e.g. capacity-not-available. */
  @Column({ type: 'text' }) reason!: string;
  @Column({ name: 'worker_type', type: 'text' }) workerType!: string;
  @Column({ name: 'spot_request_id', type: 'text' }) spotRequestId!: string;
  @Column({ type: 'timestamptz', default: () => 'now()' }) created!: Date;
}
