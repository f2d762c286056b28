/**
 * Hosted MCP endpoints: an org registers a remote MCP server (Streamable HTTP) and the hub serves the MCP
 * gateway in front of it at `/v1/mcp-endpoints/{id}/mcp` (mcp-hosting.ts). No process to run next to the
 * agent, and the decision is a call inside the hub instead of another process's round trip.
 *
 * - The upstream's headers (its credentials) are sealed at rest with the hub's key, shown never again (only
 *   their names), and sent to the upstream only: nothing the gateway answers its clients carries them.
 * - The upstream URL passes the egress guard when it is registered (a literal internal address or localhost
 *   is refused then) and again at every connection (every address a name resolves to), unless the operator
 *   allows it (HUB_EGRESS_ALLOW): a tenant cannot make the hub a proxy into its own network.
 * - Deleting an endpoint ends its open sessions in every hub process (`onRemoved`, on the control bus).
 */
import type { CreateMcpEndpointInput, McpEndpoint } from '@agentops-hub/contracts';
import type { Db } from '../../db/database.ts';
import { newId } from '../../db/ids.ts';
import type { McpEndpointsTable } from '../../db/schema.ts';
import type { AuditStore } from '../../platform/audit/audit.store.ts';
import type { Caller, OrgId } from '../../platform/caller.ts';
import type { EgressGuard } from '../../platform/egress/egress.ts';
import { invalid, notFound } from '../../platform/errors.ts';
import { assertBelowOrgCap } from '../../platform/org-caps.ts';
import type { SecretBox } from '../../platform/secret-box.ts';
import { createMcpEndpointStore } from './mcp-endpoints.store.ts';

export const mcpPathOf = (id: string) => `/v1/mcp-endpoints/${id}/mcp`;

export function toMcpEndpoint(row: McpEndpointsTable): McpEndpoint {
  return {
    id: row.id,
    name: row.name,
    agent: row.agent,
    upstream_url: row.upstream_url,
    upstream_header_names: JSON.parse(row.upstream_header_names) as string[],
    govern: JSON.parse(row.govern) as McpEndpoint['govern'],
    description: row.description,
    mcp_path: mcpPathOf(row.id),
    created_at: new Date(Number(row.created_at)).toISOString(),
  };
}

/** What the hosting needs to open an upstream connection (the headers unsealed: never sent to a client). */
export interface McpEndpointConnection {
  endpoint: McpEndpoint;
  headers: Record<string, string>;
}

export function createMcpEndpointService(deps: {
  db: Db;
  audit: Pick<AuditStore, 'append'>;
  secretBox: SecretBox;
  egress: Pick<EgressGuard, 'checkUrl'>;
  clock?: () => number;
  /** After an endpoint is deleted: every hub process ends its sessions (context.ts sends it on the control bus). */
  onRemoved?: (orgId: OrgId, id: string) => void;
}) {
  const db = deps.db.db;
  const now = deps.clock ?? Date.now;
  const store = createMcpEndpointStore(db);

  async function mustGet(orgId: OrgId, id: string) {
    const row = await store.forOrg(orgId).get(id);
    if (!row) throw notFound('MCP endpoint');
    return row;
  }

  return {
    async create(caller: Caller, body: CreateMcpEndpointInput): Promise<McpEndpoint> {
      const refusal = deps.egress.checkUrl(body.upstream_url);
      if (refusal) throw invalid('upstream_url', refusal);
      const t = now();
      const headerNames = Object.keys(body.upstream_headers);
      const row: Omit<McpEndpointsTable, 'org_id'> = {
        id: newId('mcp', t),
        name: body.name,
        agent: body.agent,
        upstream_url: body.upstream_url,
        upstream_header_names: JSON.stringify(headerNames),
        upstream_headers_secret: deps.secretBox.seal(JSON.stringify(body.upstream_headers)),
        govern: JSON.stringify([...new Set(body.govern)]),
        description: body.description,
        created_at: t,
      };
      await db.transaction().execute(async (trx) => {
        const endpoints = store.forOrg(caller.orgId, trx);
        // Each endpoint holds live upstream connections while clients use it.
        await assertBelowOrgCap('MCP endpoints', endpoints.count);
        await endpoints.insert(row);
        await deps.audit.append(
          trx,
          caller.orgId,
          {
            actor: caller.actor,
            action: 'mcp_endpoint.created',
            entityType: 'mcp_endpoint',
            entityId: row.id,
            // Header names only: their values are credentials.
            changes: {
              name: row.name,
              agent: row.agent,
              upstream_url: row.upstream_url,
              upstream_header_names: headerNames,
            },
          },
          t,
        );
      });
      return toMcpEndpoint({ ...row, org_id: caller.orgId });
    },

    async list(orgId: OrgId): Promise<McpEndpoint[]> {
      return (await store.forOrg(orgId).list()).map(toMcpEndpoint);
    },

    async get(orgId: OrgId, id: string): Promise<McpEndpoint> {
      return toMcpEndpoint(await mustGet(orgId, id));
    },

    async remove(caller: Caller, id: string): Promise<void> {
      await db.transaction().execute(async (trx) => {
        const endpoints = store.forOrg(caller.orgId, trx);
        const row = await endpoints.get(id);
        if (!row) throw notFound('MCP endpoint');
        await endpoints.remove(id);
        await deps.audit.append(
          trx,
          caller.orgId,
          {
            actor: caller.actor,
            action: 'mcp_endpoint.deleted',
            entityType: 'mcp_endpoint',
            entityId: id,
            changes: { name: row.name, upstream_url: row.upstream_url },
          },
          now(),
        );
      });
      deps.onRemoved?.(caller.orgId, id);
    },

    /** The endpoint with its upstream headers, for the hosting to connect (404 for another org's id). */
    async connection(orgId: OrgId, id: string): Promise<McpEndpointConnection> {
      const row = await mustGet(orgId, id);
      return {
        endpoint: toMcpEndpoint(row),
        headers: JSON.parse(deps.secretBox.open(row.upstream_headers_secret)) as Record<string, string>,
      };
    },
  };
}

export type McpEndpointService = ReturnType<typeof createMcpEndpointService>;
