import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * What an operator allows one worker type (SPEC §11): a cap on its instances and open spot requests
 * over all regions, its own zombie age, and the instance types it may launch. A null field is "no
 * rule of this worker type's own".
 */
@Entity({ name: 'worker_type_policies' })
export class WorkerTypePolicy {
  @PrimaryColumn({ name: 'worker_type', type: 'text' }) workerType!: string;
  @Column({ name: 'max_instances', type: 'integer', nullable: true }) maxInstances!: number | null;
  @Column({ name: 'max_instance_life_hours', type: 'double precision', nullable: true })
  maxInstanceLifeHours!: number | null;
  /** Patterns such as `m5.*` (`*` any run of characters, `?` one character). */
  @Column({ name: 'allowed_instance_types', type: 'text', array: true, nullable: true })
  allowedInstanceTypes!: string[] | null;
  @Column({ type: 'timestamptz', default: () => 'now()' }) updated!: Date;
}
