import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

/** When each launch template of ours was last used (SPEC §11: housekeeping deletes those unused for a day). */
@Injectable()
export class LaunchTemplateRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async recordUse(
    row: { region: string; name: string; templateId: string; workerType: string },
    tx?: EntityManager,
  ): Promise<void> {
    await (tx ?? this.db.manager).query(
      `INSERT INTO launch_templates (region, name, template_id, worker_type, created, last_used)
       VALUES ($1, $2, $3, $4, clock_timestamp(), clock_timestamp())
       ON CONFLICT (region, name) DO UPDATE SET template_id = EXCLUDED.template_id, last_used = EXCLUDED.last_used`,
      [row.region, row.name, row.templateId, row.workerType],
    );
  }

  /** Last use by template id, for the region's templates this service has used. */
  async lastUsed(region: string, tx?: EntityManager): Promise<Map<string, Date>> {
    const rows: { templateId: string; lastUsed: Date }[] = await (tx ?? this.db.manager).query(
      `SELECT template_id AS "templateId", last_used AS "lastUsed" FROM launch_templates WHERE region = $1`,
      [region],
    );
    return new Map(rows.map((r) => [r.templateId, r.lastUsed]));
  }

  /** Forgets deleted templates, unless one was used again after `before` (it raced the deletion). */
  async forget(region: string, templateIds: readonly string[], before: Date, tx?: EntityManager): Promise<void> {
    if (templateIds.length === 0) return;
    await (tx ?? this.db.manager).query(
      `DELETE FROM launch_templates WHERE region = $1 AND template_id = ANY($2::text[]) AND last_used < $3`,
      [region, templateIds, before],
    );
  }
}
