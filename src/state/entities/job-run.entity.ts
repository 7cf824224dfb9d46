import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The latest run of each periodic job, whichever replica ran it (SPEC §9). */
@Entity({ name: 'job_runs' })
export class JobRun {
  @PrimaryColumn({ type: 'text' }) name!: string;
  @Column({ type: 'timestamptz' }) started!: Date;
  @Column({ type: 'timestamptz', nullable: true }) finished!: Date | null;
  @Column({ type: 'boolean', nullable: true }) ok!: boolean | null;
  @Column({ type: 'text', nullable: true }) error!: string | null;
  /** When a run of the job last finished well (this run or an earlier one). */
  @Column({ name: 'last_succeeded', type: 'timestamptz', nullable: true }) lastSucceeded!: Date | null;
  /** Which replica ran it (host and pid). */
  @Column({ type: 'text' }) runner!: string;
}
