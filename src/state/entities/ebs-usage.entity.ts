import { Column, Entity, PrimaryColumn } from 'typeorm';

export type EbsUsageState = 'active' | 'unused';

/** EBS volumes per region, volume type and attachment state; replaced by each housekeeping sweep. */
@Entity({ name: 'ebs_usage' })
export class EbsUsage {
  @PrimaryColumn({ type: 'text' }) region!: string;
  @PrimaryColumn({ name: 'volume_type', type: 'text' }) volumeType!: string;
  @PrimaryColumn({ type: 'text' }) state!: EbsUsageState;
  @Column({ name: 'total_count', type: 'integer' }) totalCount!: number;
  @Column({ name: 'total_gb', type: 'bigint', transformer: { to: (v: number) => v, from: (v: string) => Number(v) } })
  totalGb!: number;
  @Column({ type: 'timestamptz', default: () => 'now()' }) touched!: Date;
}
