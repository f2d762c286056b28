/** An audit log row as the API returns it (`GET /v1/audit`, the org export). */
import type { AuditLogTable } from '../../db/schema.ts';

export function toAuditEntry(r: AuditLogTable) {
  return {
    id: r.id,
    seq: Number(r.seq),
    at: new Date(Number(r.at)).toISOString(),
    actor: { type: r.actor_type, id: r.actor_id, name: r.actor_name },
    action: r.action,
    entity_type: r.entity_type,
    entity_id: r.entity_id,
    changes: JSON.parse(r.changes),
    reason: r.reason,
    hash: r.hash,
    prev_hash: r.prev_hash,
  };
}
