import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { Instance } from './instance.entity';

export const TERMINATION_NOTICE_KINDS = ['spot-interruption', 'rebalance-recommendation', 'scheduled-change'] as const;
export type TerminationNoticeKind = (typeof TERMINATION_NOTICE_KINDS)[number];
export const TERMINATION_ACTIONS = ['terminate', 'stop', 'hibernate'] as const;
export type TerminationAction = (typeof TERMINATION_ACTIONS)[number];

/**
 * A warning that EC2 will interrupt, or recommends replacing, one of our instances. The foreign key
 * removes it, in the same statement, when the instance leaves state.
 */
@Entity({ name: 'termination_notices' })
export class TerminationNotice {
  @PrimaryColumn({ type: 'text' }) region!: string;
  @PrimaryColumn({ name: 'instance_id', type: 'text' }) instanceId!: string;
  @PrimaryColumn({ type: 'text' }) kind!: TerminationNoticeKind;
  @Column({ type: 'text', nullable: true }) action!: TerminationAction | null;
  @Column({ name: 'not_before', type: 'timestamptz', nullable: true }) notBefore!: Date | null;
  @Column({ type: 'timestamptz', default: () => 'now()' }) received!: Date;

  @ManyToOne(() => Instance, { onDelete: 'CASCADE', createForeignKeyConstraints: true })
  @JoinColumn([
    { name: 'region', referencedColumnName: 'region', foreignKeyConstraintName: 'termination_notices_instance_fk' },
    { name: 'instance_id', referencedColumnName: 'id', foreignKeyConstraintName: 'termination_notices_instance_fk' },
  ])
  instance?: Instance;
}
