import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** Every instance state-change event received, once per (instance, region, state, event time). */
@Entity({ name: 'cloudwatch_log' })
@Index('cloudwatch_log_received_idx', ['received'])
export class CloudwatchLogEntry {
  @PrimaryColumn({ type: 'text' }) id!: string;
  @PrimaryColumn({ type: 'text' }) region!: string;
  @PrimaryColumn({ type: 'text' }) state!: string;
  /** The event's own time. */
  @PrimaryColumn({ type: 'timestamptz' }) generated!: Date;
  @Column({ type: 'timestamptz', default: () => 'now()' }) received!: Date;
}
