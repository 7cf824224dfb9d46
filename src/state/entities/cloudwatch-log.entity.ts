import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Every instance state-change event received, once per (instance, region, state, event time). */
@Entity({ name: 'cloudwatch_log' })
export class CloudwatchLogEntry {
  @PrimaryColumn({ type: 'text' }) id!: string;
  @PrimaryColumn({ type: 'text' }) region!: string;
  @PrimaryColumn({ type: 'text' }) state!: string;
  /** The event's own time. */
  @PrimaryColumn({ type: 'timestamptz' }) generated!: Date;
  @Column({ type: 'timestamptz', default: () => 'now()' }) received!: Date;
}
