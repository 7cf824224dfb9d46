import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * A resource of ours (instance or volume) found without the tags of SPEC §2, waiting for the tagger.
 * Written in the transaction that adopts its instance, so a process killed after that commit loses no
 * tag; removed once EC2 tagged it or said it no longer exists. `next_attempt` is both the back-off after
 * a failed call and the lease of a claim in flight (a claim moves it ahead): a row is due when it is past.
 */
@Entity({ name: 'pending_tags' })
@Index('pending_tags_next_attempt_idx', ['nextAttempt'])
export class PendingTag {
  @PrimaryColumn({ type: 'text' }) region!: string;
  @PrimaryColumn({ name: 'resource_id', type: 'text' }) resourceId!: string;
  @Column({ name: 'worker_type', type: 'text' }) workerType!: string;
  /** When it was found untagged. */
  @Column({ type: 'timestamptz', default: () => 'now()' }) since!: Date;
  /** Claims made so far: how far its back-off has grown. */
  @Column({ type: 'integer', default: 0 }) attempts!: number;
  @Column({ name: 'next_attempt', type: 'timestamptz', default: () => 'now()' }) nextAttempt!: Date;
}
