import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export const LAUNCH_OUTCOMES = ['success', 'insufficient-capacity', 'quota', 'throttled', 'invalid', 'error'] as const;
export type LaunchOutcomeKind = (typeof LAUNCH_OUTCOMES)[number];
export const LAUNCH_ENDPOINTS = ['fleet', 'instance', 'spot-request'] as const;
export type LaunchEndpoint = (typeof LAUNCH_ENDPOINTS)[number];

/**
 * What one launch attempt got from EC2 in one pool (SPEC §12): how many instances, or why none. Written
 * by every launch endpoint; read by launch health. `az` is '' when EC2 did not say which zone.
 */
@Entity({ name: 'launch_outcomes' })
@Index('launch_outcomes_worker_type_idx', ['workerType', 'at'])
@Index('launch_outcomes_at_idx', ['at'])
export class LaunchOutcome {
  @PrimaryGeneratedColumn({ type: 'bigint' }) id!: string;
  @Column({ type: 'timestamptz', default: () => 'now()' }) at!: Date;
  @Column({ name: 'worker_type', type: 'text' }) workerType!: string;
  @Column({ type: 'text' }) region!: string;
  @Column({ type: 'text' }) az!: string;
  @Column({ name: 'instance_type', type: 'text' }) instanceType!: string;
  /** `spot` or `on-demand`. */
  @Column({ type: 'text' }) lifecycle!: string;
  @Column({ type: 'text' }) endpoint!: LaunchEndpoint;
  @Column({ type: 'text' }) outcome!: LaunchOutcomeKind;
  /** Instances launched (success) or asked for and not given. */
  @Column({ type: 'integer' }) count!: number;
  /** EC2's error code and message, for every outcome but success. */
  @Column({ type: 'text', nullable: true }) code!: string | null;
  @Column({ type: 'text', nullable: true }) message!: string | null;
  @Column({ name: 'client_token', type: 'text', nullable: true }) clientToken!: string | null;
}
