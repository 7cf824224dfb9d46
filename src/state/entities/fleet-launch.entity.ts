import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * The answer of a launchFleet call, kept under its ClientToken (SPEC §11): the same request again gets
 * it back and launches nothing; the same token with another body is refused.
 */
@Entity({ name: 'fleet_launches' })
export class FleetLaunch {
  @PrimaryColumn({ type: 'text' }) region!: string;
  @PrimaryColumn({ name: 'client_token', type: 'text' }) clientToken!: string;
  @Column({ name: 'worker_type', type: 'text' }) workerType!: string;
  /** SHA-256 of the worker type and the body, its keys sorted. */
  @Column({ name: 'body_hash', type: 'text' }) bodyHash!: string;
  @Column({ type: 'jsonb' }) answer!: unknown;
  @Column({ type: 'timestamptz', default: () => 'now()' }) created!: Date;
}
