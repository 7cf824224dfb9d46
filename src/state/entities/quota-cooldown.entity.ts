import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * An account quota EC2 said was used up in a region for one lifecycle (SPEC §11): launches of that
 * lifecycle there are not asked for until `until`. Kept apart from capacity cooldowns so that operators
 * see which one bites.
 */
@Entity({ name: 'quota_cooldowns' })
export class QuotaCooldown {
  @PrimaryColumn({ type: 'text' }) region!: string;
  /** `spot` or `on-demand`. */
  @PrimaryColumn({ type: 'text' }) lifecycle!: string;
  @Column({ type: 'timestamptz' }) until!: Date;
  /** EC2's error code, e.g. `VcpuLimitExceeded`. */
  @Column({ type: 'text' }) reason!: string;
  @Column({ type: 'text' }) message!: string;
  @Column({ name: 'worker_type', type: 'text' }) workerType!: string;
  @Column({ type: 'timestamptz', default: () => 'now()' }) created!: Date;
}
