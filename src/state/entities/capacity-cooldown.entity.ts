import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A pool EC2 recently could not fill (SPEC §5, §11): provisioners (and launchFleet) should stop asking
 * for it until `until`. `az` is `*` when the failed request named no zone: the whole region's pool was
 * short. Kept in Postgres so that every replica serves the same answer, whichever one learnt it.
 */
@Entity({ name: 'capacity_cooldowns' })
export class CapacityCooldown {
  @PrimaryColumn({ type: 'text' }) region!: string;
  @PrimaryColumn({ type: 'text' }) az!: string;
  @PrimaryColumn({ name: 'instance_type', type: 'text' }) instanceType!: string;
  /** `spot` or `on-demand`: EC2 keeps the two kinds of capacity apart. */
  @PrimaryColumn({ type: 'text' }) lifecycle!: string;
  @Column({ type: 'timestamptz' }) until!: Date;
  /** EC2's status or error code that caused it, e.g. capacity-not-available, InsufficientInstanceCapacity. */
  @Column({ type: 'text' }) reason!: string;
  @Column({ name: 'worker_type', type: 'text' }) workerType!: string;
  /** The spot request that failed, or '' when a fleet launch or an interruption told. */
  @Column({ name: 'spot_request_id', type: 'text' }) spotRequestId!: string;
  @Column({ type: 'timestamptz', default: () => 'now()' }) created!: Date;
}
