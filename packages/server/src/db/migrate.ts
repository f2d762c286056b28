/**
 * Applies migrations: Better Auth's own schema first (users, sessions, 2FA…), then the hub's, in order.
 * The same files run on SQLite and PostgreSQL; each migration gets the dialect for the few places
 * (triggers) where SQL differs.
 */
import { type Kysely, type Migration, type MigrationProvider, Migrator } from 'kysely';
import type { Db, Dialect } from './database.ts';
import * as core from './migrations/001-core.ts';
import * as ingestion from './migrations/002-ingestion.ts';
import * as priceOverrides from './migrations/003-price-overrides.ts';
import * as controls from './migrations/004-controls.ts';
import * as policies from './migrations/005-policies.ts';
import * as approvalExtras from './migrations/006-approval-extras.ts';
import * as budgets from './migrations/007-budgets.ts';
import * as reports from './migrations/008-reports.ts';
import * as governance from './migrations/009-governance.ts';
import * as runTimelineIndexes from './migrations/010-run-timeline-indexes.ts';
import * as security from './migrations/011-security.ts';
import * as alerts from './migrations/012-alerts.ts';
import * as planUsage from './migrations/013-plan-usage.ts';
import * as alertCursors from './migrations/014-alert-cursors.ts';
import * as enrichmentPartitions from './migrations/015-enrichment-partitions.ts';
import * as privacy from './migrations/016-privacy.ts';
import * as runOutcomes from './migrations/017-run-outcomes.ts';
import * as privacyRedactions from './migrations/018-privacy-redactions.ts';
import * as orgCompositeKeys from './migrations/019-org-composite-keys.ts';
import * as decisionApprovals from './migrations/020-decision-approvals.ts';
import * as mcpEndpoints from './migrations/021-mcp-endpoints.ts';

type HubMigration = { up(db: Kysely<any>, dialect: Dialect): Promise<void> };

/** Ordered list: append new migrations here, never edit or reorder an applied one. */
const MIGRATIONS: Record<string, HubMigration> = {
  '001-core': core,
  '002-ingestion': ingestion,
  '003-price-overrides': priceOverrides,
  '004-controls': controls,
  '005-policies': policies,
  '006-approval-extras': approvalExtras,
  '007-budgets': budgets,
  '008-reports': reports,
  '009-governance': governance,
  '010-run-timeline-indexes': runTimelineIndexes,
  '011-security': security,
  '012-alerts': alerts,
  '013-plan-usage': planUsage,
  '014-alert-cursors': alertCursors,
  '015-enrichment-partitions': enrichmentPartitions,
  '016-privacy': privacy,
  '017-run-outcomes': runOutcomes,
  '018-privacy-redactions': privacyRedactions,
  '019-org-composite-keys': orgCompositeKeys,
  '020-decision-approvals': decisionApprovals,
  '021-mcp-endpoints': mcpEndpoints,
};

/** The migrations' names, in order. */
export const hubMigrationNames = (): string[] => Object.keys(MIGRATIONS);

class HubMigrationProvider implements MigrationProvider {
  constructor(private readonly dialect: Dialect) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    return Object.fromEntries(
      Object.entries(MIGRATIONS).map(([name, m]) => [name, { up: (db: Kysely<any>) => m.up(db, this.dialect) }]),
    );
  }
}

/** Migrates to the latest, or with `to` up to and including that migration (tests of a migration over old data). */
export async function migrateHub(db: Db, opts: { to?: string } = {}): Promise<string[]> {
  const migrator = new Migrator({
    db: db.db,
    provider: new HubMigrationProvider(db.dialect),
    migrationTableName: 'hub_migrations',
    migrationLockTableName: 'hub_migrations_lock',
  });
  const { error, results } = opts.to ? await migrator.migrateTo(opts.to) : await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
