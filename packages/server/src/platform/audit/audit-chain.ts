/**
 * The hash chain of the hub's audit log. Each org has its own chain: entry n stores
 * hash = sha256(prev_hash ‖ canonical JSON of the entry), so editing, deleting or reordering any row
 * breaks every hash after it. One chain per org lets an org be verified, exported or erased alone.
 */
import { createHash } from 'node:crypto';
import type { AuditLogTable } from '../../db/schema.ts';

export const GENESIS_HASH = '0'.repeat(64);

/** JSON with sorted keys, so the same entry always hashes the same on every dialect. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function entryHash(row: Omit<AuditLogTable, 'hash'>): string {
  const body = canonicalJson({
    id: row.id,
    org_id: row.org_id,
    seq: Number(row.seq),
    at: Number(row.at),
    actor: [row.actor_type, row.actor_id, row.actor_name],
    action: row.action,
    entity: [row.entity_type, row.entity_id],
    changes: row.changes,
    reason: row.reason,
  });
  return createHash('sha256').update(row.prev_hash).update('\n').update(body).digest('hex');
}
