import { Column, Entity, PrimaryColumn } from 'typeorm';

/** When an image was last used to launch or adopt an instance. */
@Entity({ name: 'ami_usage' })
export class AmiUsage {
  @PrimaryColumn({ type: 'text' }) region!: string;
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Column({ name: 'last_used', type: 'timestamptz' }) lastUsed!: Date;
}
