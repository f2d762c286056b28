/**
 * Hosted MCP endpoints (modules/mcp-endpoints): per org, a remote MCP server the hub fronts with its gateway.
 * `upstream_headers_secret` holds the upstream's headers (its credentials) sealed with the hub's key; the
 * name ends in `secret` so an org export drops it (modules/governance/org-export.ts). The key is
 * `(org_id, id)`, as every org-owned parent's is since migration 019.
 */
import type { Kysely } from 'kysely';
import type { Dialect } from '../database.ts';

export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('mcp_endpoints')
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('agent', 'text', (c) => c.notNull())
    .addColumn('upstream_url', 'text', (c) => c.notNull())
    .addColumn('upstream_header_names', 'text', (c) => c.notNull())
    .addColumn('upstream_headers_secret', 'text', (c) => c.notNull())
    .addColumn('govern', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('mcp_endpoints_pk', ['org_id', 'id'])
    .execute();
}
