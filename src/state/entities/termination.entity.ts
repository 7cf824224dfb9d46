import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** Why an instance ended, decided by us. */
export const OWN_TERMINATION_REASONS = [
  'zombie',
  'stopped',
  'terminate-worker-type',
  'terminate-instance',
  'policy',
] as const;
export type OwnTerminationReason = (typeof OWN_TERMINATION_REASONS)[number];

/** Why an instance ended, as EC2's `StateReason` says (see `reasonOfStateCode`). */
export const EC2_TERMINATION_REASONS = [
  'spot-interruption',
  'user-initiated',
  'instance-initiated',
  'insufficient-capacity',
  'ec2-error',
  'ec2-other',
] as const;

/**
 * Every reason a termination may carry (SPEC §12). `unresolved`: EC2's StateReason has not been fetched
 * yet; `unknown`: EC2 no longer describes the instance (it shows ended ones for about an hour) or gave
 * no reason.
 */
export const TERMINATION_REASONS = [
  ...OWN_TERMINATION_REASONS,
  ...EC2_TERMINATION_REASONS,
  'unknown',
  'unresolved',
] as const;
export type TerminationReason = (typeof TERMINATION_REASONS)[number];

export const INSTANCE_LIFECYCLES = ['spot', 'on-demand'] as const;
export type InstanceLifecycle = (typeof INSTANCE_LIFECYCLES)[number];

/**
 * An instance that left state, and why (SPEC §12). Written by a trigger on `instances` for every
 * removal, whoever removes it; kept for HISTORY_RETENTION_DAYS.
 */
@Entity({ name: 'terminations' })
@Index('terminations_worker_type_ended_idx', ['workerType', 'ended', 'region', 'instanceId'])
@Index('terminations_reason_idx', ['reason', 'region', 'ended'])
export class Termination {
  @PrimaryColumn({ type: 'text' }) region!: string;
  @PrimaryColumn({ name: 'instance_id', type: 'text' }) instanceId!: string;
  @Column({ name: 'worker_type', type: 'text' }) workerType!: string;
  @Column({ name: 'instance_type', type: 'text' }) instanceType!: string;
  @Column({ type: 'text' }) az!: string;
  @Column({ type: 'text' }) lifecycle!: InstanceLifecycle;
  @Column({ type: 'timestamptz' }) launched!: Date;
  /** When it left state: the event's time when an event removed it, else the removal's. */
  @Column({ type: 'timestamptz' }) ended!: Date;
  @Column({ type: 'text' }) reason!: TerminationReason;
  /** EC2's StateReason code and message, once fetched. */
  @Column({ type: 'text', nullable: true }) code!: string | null;
  @Column({ type: 'text', nullable: true }) message!: string | null;
  /** USD per hour of its pool when it ended (spot price, or on-demand price), when known: what it cost. */
  @Column({ name: 'hourly_price', type: 'double precision', nullable: true }) hourlyPrice!: number | null;
  @Column({ type: 'timestamptz', default: () => 'now()' }) recorded!: Date;
}
