/**
 * Writes and reads the audit log. `append` must run inside the caller's transaction, so the audit row
 * commits or rolls back with the change it records.
 */
import type { Actor } from '@agentops-hub/contracts';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { Dialect } from '../../db/database.ts';
import { newId } from '../../db/ids.ts';
import { orgScope } from '../../db/org-scope.ts';
import type { AuditLogTable, Database } from '../../db/schema.ts';
import type { OrgId } from '../caller.ts';
import { entryHash, GENESIS_HASH } from './audit-chain.ts';

export interface AuditInput {
  actor: Actor;
  action: string;
  entityType: string;
  entityId?: string | null;
  /** `{before, after}` for updates, the created object for creates, anything JSON for others. */
  changes?: unknown;
  reason?: string | null;
}

export interface AuditFilter {
  from?: number;
  to?: number;
  actor?: string;
  entityType?: string;
  entityId?: string;
  action?: string;
  beforeSeq?: number;
}

/** Strip anything that looks like a secret before it is written into the permanent log. */
function redact(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(redact);
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([k, v]) => [
      k,
      /secret|password|token|connection|key_hash|^key$/i.test(k) ? '[redacted]' : redact(v),
    ]),
  );
}

export function createAuditStore(db: Kysely<Database>, dialect: Dialect) {
  return {
    async append(trx: Transaction<Database> | Kysely<Database>, orgId: OrgId, input: AuditInput, now = Date.now()) {
      if (dialect === 'postgres') {
        // Serialize appends per org so two transactions cannot fork the chain.
        await sql`select pg_advisory_xact_lock(hashtext(${`audit:${orgId}`}))`.execute(trx);
      }
      const last = await orgScope(trx, orgId)
        .selectFrom('audit_log')
        .select(['seq', 'hash'])
        .orderBy('seq', 'desc')
        .limit(1)
        .executeTakeFirst();
      const row: Omit<AuditLogTable, 'hash'> = {
        id: newId('aud', now),
        org_id: orgId,
        seq: last ? Number(last.seq) + 1 : 1,
        at: now,
        actor_type: input.actor.type,
        actor_id: input.actor.id,
        actor_name: input.actor.name,
        action: input.action,
        entity_type: input.entityType,
        entity_id: input.entityId ?? null,
        changes: JSON.stringify(redact(input.changes ?? null)),
        reason: input.reason ?? null,
        prev_hash: last?.hash ?? GENESIS_HASH,
      };
      const full = { ...row, hash: entryHash(row) };
      await orgScope(trx, orgId).insertInto('audit_log', full).execute();
      return full;
    },

    async list(orgId: OrgId, f: AuditFilter, limit: number) {
      let q = orgScope(db, orgId).selectFrom('audit_log').selectAll();
      if (f.from !== undefined) q = q.where('at', '>=', f.from);
      if (f.to !== undefined) q = q.where('at', '<', f.to);
      if (f.actor) q = q.where((eb) => eb.or([eb('actor_id', '=', f.actor!), eb('actor_type', '=', f.actor!)]));
      if (f.entityType) q = q.where('entity_type', '=', f.entityType);
      if (f.entityId) q = q.where('entity_id', '=', f.entityId);
      if (f.action) q = q.where('action', '=', f.action);
      if (f.beforeSeq !== undefined) q = q.where('seq', '<', f.beforeSeq);
      return q.orderBy('seq', 'desc').limit(limit).execute();
    },

    /** Entries after `afterSeq` in chain order, one page (the org export reads the chain in its snapshot `exec`). */
    entriesAfter: (exec: Kysely<Database>, orgId: OrgId, afterSeq: number, limit: number) =>
      orgScope(exec, orgId)
        .selectFrom('audit_log')
        .selectAll()
        .where('seq', '>', afterSeq)
        .orderBy('seq')
        .limit(limit)
        .execute(),

    /**
     * Org deletion only, inside its transaction: while an org is listed in `audit_purges` the
     * append-only trigger lets its chain be deleted; `endPurge` removes the listing again.
     */
    beginPurge: (trx: Kysely<Database>, orgId: OrgId, at: number) =>
      orgScope(trx, orgId)
        .insertInto('audit_purges', { at })
        .onConflict((oc) => oc.column('org_id').doNothing())
        .execute(),
    endPurge: (trx: Kysely<Database>, orgId: OrgId) => orgScope(trx, orgId).deleteFrom('audit_purges').execute(),

    /** Walks the whole chain in order, recomputing every hash. */
    async verify(orgId: OrgId) {
      let prev = GENESIS_HASH;
      let expectedSeq = 1;
      let entries = 0;
      for (;;) {
        const rows = await orgScope(db, orgId)
          .selectFrom('audit_log')
          .selectAll()
          .where('seq', '>=', expectedSeq)
          .orderBy('seq', 'asc')
          .limit(1000)
          .execute();
        if (rows.length === 0) break;
        for (const r of rows) {
          const seq = Number(r.seq);
          const { hash, ...rest } = r;
          if (seq !== expectedSeq)
            return { ok: false, entries, head_hash: prev, broken_at_seq: expectedSeq, problem: 'missing entry' };
          if (r.prev_hash !== prev)
            return { ok: false, entries, head_hash: prev, broken_at_seq: seq, problem: 'chain link broken' };
          if (entryHash({ ...rest, seq, at: Number(r.at) }) !== hash)
            return { ok: false, entries, head_hash: prev, broken_at_seq: seq, problem: 'entry was modified' };
          prev = hash;
          expectedSeq++;
          entries++;
        }
      }
      return { ok: true, entries, head_hash: prev };
    },
  };
}

export type AuditStore = ReturnType<typeof createAuditStore>;
