/** Row → wire mapping for agents. Connection secrets never leave: only their field names do. */
import type { Agent } from '@agentops-hub/contracts';
import type { AgentsTable } from '../../db/schema.ts';
import type { SecretBox } from '../../platform/secret-box.ts';

export function toAgent(row: AgentsTable, box: SecretBox): Agent {
  let fields: string[] = [];
  if (row.provider_secret) {
    try {
      fields = Object.keys(JSON.parse(box.open(row.provider_secret))).sort();
    } catch {
      fields = [];
    }
  }
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    type: row.type,
    team_id: row.team_id,
    tags: JSON.parse(row.tags),
    environment: row.environment as Agent['environment'],
    status: row.status as Agent['status'],
    provider: row.provider_kind
      ? { kind: row.provider_kind, external_id: row.provider_external_id, connection_fields: fields }
      : null,
    auto_registered: Number(row.auto_registered) === 1,
    created_at: new Date(Number(row.created_at)).toISOString(),
    updated_at: new Date(Number(row.updated_at)).toISOString(),
  };
}
