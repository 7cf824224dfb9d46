import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A launch template this service made for a worker type and one launch specification (SPEC §11), by its
 * EC2 name `<managerId>/<workerType>/<hash>`. `last_used` tells housekeeping which ones to delete.
 */
@Entity({ name: 'launch_templates' })
export class LaunchTemplateRow {
  @PrimaryColumn({ type: 'text' }) region!: string;
  @PrimaryColumn({ type: 'text' }) name!: string;
  @Column({ name: 'template_id', type: 'text' }) templateId!: string;
  @Column({ name: 'worker_type', type: 'text' }) workerType!: string;
  @Column({ type: 'timestamptz', default: () => 'now()' }) created!: Date;
  @Column({ name: 'last_used', type: 'timestamptz', default: () => 'now()' }) lastUsed!: Date;
}
