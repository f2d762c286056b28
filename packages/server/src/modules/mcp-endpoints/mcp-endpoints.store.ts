/** SQL for hosted MCP endpoints. Every query goes through `orgScope`: another org's endpoint is not found. */
import type { Kysely } from 'kysely';
import { type Exec, orgScope } from '../../db/org-scope.ts';
import type { Database, McpEndpointsTable } from '../../db/schema.ts';
import type { OrgId } from '../../platform/caller.ts';

export function createMcpEndpointStore(db: Kysely<Database>) {
  return {
    forOrg(orgId: OrgId, exec: Exec = db) {
      const scope = orgScope(exec, orgId);
      return {
        insert: (row: Omit<McpEndpointsTable, 'org_id'>) => scope.insertInto('mcp_endpoints', row).execute(),
        list: () => scope.selectFrom('mcp_endpoints').selectAll().orderBy('id', 'desc').execute(),
        count: () => scope.count('mcp_endpoints'),
        get: (id: string) => scope.selectFrom('mcp_endpoints').selectAll().where('id', '=', id).executeTakeFirst(),
        remove: (id: string) => scope.deleteFrom('mcp_endpoints').where('id', '=', id).executeTakeFirst(),
      };
    },
  };
}
