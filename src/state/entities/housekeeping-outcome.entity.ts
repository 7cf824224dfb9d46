import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The last housekeeping sweep of a region (SPEC §6 step 7), replaced by each sweep. */
@Entity({ name: 'housekeeping_outcomes' })
export class HousekeepingOutcome {
  @PrimaryColumn({ type: 'text' }) region!: string;
  @Column({ type: 'timestamptz' }) started!: Date;
  @Column({ type: 'timestamptz' }) finished!: Date;
  @Column({ name: 'duration_ms', type: 'integer' }) durationMs!: number;
  @Column({ name: 'missing_instances', type: 'integer' }) missingInstances!: number;
  @Column({ name: 'missing_spot_requests', type: 'integer' }) missingSpotRequests!: number;
  @Column({ name: 'extraneous_instances', type: 'integer' }) extraneousInstances!: number;
  @Column({ name: 'extraneous_spot_requests', type: 'integer' }) extraneousSpotRequests!: number;
  @Column({ name: 'corrected_instances', type: 'integer', default: 0 }) correctedInstances!: number;
  @Column({ name: 'zombies_killed', type: 'integer' }) zombiesKilled!: number;
  @Column({ name: 'stopped_killed', type: 'integer', default: 0 }) stoppedKilled!: number;
  @Column({ type: 'integer' }) tagged!: number;
  /** Set when the sweep of this region failed; the counts are then what it did before failing. */
  @Column({ type: 'text', nullable: true }) error!: string | null;
}
