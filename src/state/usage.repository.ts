import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AmiUsage, EbsUsage, EbsUsageState } from './entities';
import { tableOf } from './table';

export interface EbsTotals {
  volumeType: string;
  state: EbsUsageState;
  totalCount: number;
  totalGb: number;
}

/** A region's EBS totals as we write them; `touched` is the database's clock at the write. */
const EBS_ROWS = tableOf(EbsUsage).rows('touched');

/** What images and volumes the account uses. */
@Injectable()
export class UsageRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Marks images as used at `at`; a later use already recorded is kept. */
  async recordAmiUsage(region: string, imageIds: string[], at: Date = new Date(), tx?: EntityManager): Promise<void> {
    const unique = [...new Set(imageIds)];
    if (unique.length === 0) return;
    await (tx ?? this.db.manager).query(
      `INSERT INTO ami_usage (region, id, last_used) SELECT $1, id, $3 FROM unnest($2::text[]) AS u(id)
       ON CONFLICT (region, id) DO UPDATE SET last_used = GREATEST(ami_usage.last_used, EXCLUDED.last_used)`,
      [region, unique, at],
    );
  }

  listAmiUsage(tx?: EntityManager): Promise<AmiUsage[]> {
    return (tx ?? this.db.manager).find(AmiUsage, { order: { region: 'ASC', id: 'ASC' } });
  }

  /** Replaces a region's EBS totals with a new sweep's: two statements, which `tx` makes one change. */
  async replaceEbsUsage(region: string, totals: EbsTotals[], tx: EntityManager): Promise<void> {
    await tx.query(`DELETE FROM ebs_usage WHERE region = $1`, [region]);
    if (totals.length === 0) return;
    await tx.query(
      `INSERT INTO ebs_usage (${EBS_ROWS.columns}, touched)
       SELECT ${EBS_ROWS.select}, clock_timestamp() FROM ${EBS_ROWS.source()}`,
      EBS_ROWS.values(totals.map((t) => ({ region, ...t }))),
    );
  }

  listEbsUsage(tx?: EntityManager): Promise<EbsUsage[]> {
    return (tx ?? this.db.manager).find(EbsUsage, { order: { region: 'ASC', volumeType: 'ASC', state: 'ASC' } });
  }
}
