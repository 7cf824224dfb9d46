import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AmiUsage, EbsUsage, EbsUsageState } from './entities';

export interface EbsTotals {
  volumeType: string;
  state: EbsUsageState;
  totalCount: number;
  totalGb: number;
}

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

  /** Replaces a region's EBS totals with a new sweep's, atomically. */
  async replaceEbsUsage(region: string, totals: EbsTotals[], tx?: EntityManager): Promise<void> {
    const work = async (m: EntityManager): Promise<void> => {
      await m.query(`DELETE FROM ebs_usage WHERE region = $1`, [region]);
      if (totals.length === 0) return;
      await m.query(
        `INSERT INTO ebs_usage (region, volume_type, state, total_count, total_gb, touched)
         SELECT $1, t.volume_type, t.state, t.total_count, t.total_gb, clock_timestamp()
         FROM unnest($2::text[], $3::text[], $4::int[], $5::bigint[]) AS t(volume_type, state, total_count, total_gb)`,
        [
          region,
          totals.map((t) => t.volumeType),
          totals.map((t) => t.state),
          totals.map((t) => t.totalCount),
          totals.map((t) => t.totalGb),
        ],
      );
    };
    await (tx ? work(tx) : this.db.transaction(work));
  }

  listEbsUsage(tx?: EntityManager): Promise<EbsUsage[]> {
    return (tx ?? this.db.manager).find(EbsUsage, { order: { region: 'ASC', volumeType: 'ASC', state: 'ASC' } });
  }
}
