/**
 * The one rewrite of stored events another module makes: the privacy module's re-redaction of payloads,
 * which must reach every stored copy of content. Ingestion owns the table, so the page's read, the
 * compare-and-set and the re-read are here; what a payload becomes is the caller's `rewrite`.
 */
import { type Exec, orgScope } from '../../db/org-scope.ts';
import type { OrgId } from '../../platform/caller.ts';

/**
 * Reads up to `limit` events after the cursor (keyset on (id, ts): on PostgreSQL one event id may have
 * two rows) and stores `rewrite`'s payload for those it changes (`null`: unchanged). Each row is written
 * by compare-and-set on the payload it was read with; a row changed in between is read again and
 * rewritten from its new payload, up to `retries` times, so a concurrent write is never overwritten by a
 * stale one.
 */
export async function rewriteEventPayloads(
  exec: Exec,
  orgId: OrgId,
  after: { id: string; ts: number } | null,
  limit: number,
  retries: number,
  rewrite: (row: { agent_id: string; payload: string }) => string | null,
) {
  const scope = orgScope(exec, orgId);
  const rows = await scope
    .selectFrom('events')
    .select(['id', 'ts', 'agent_id', 'payload'])
    .$if(after !== null, (q) =>
      q.where((eb) => eb.or([eb('id', '>', after!.id), eb.and([eb('id', '=', after!.id), eb('ts', '>', after!.ts)])])),
    )
    .orderBy('id')
    .orderBy('ts')
    .limit(limit)
    .execute();
  let changed = 0;
  for (let row of rows) {
    for (let attempt = 0; ; attempt++) {
      const payload = rewrite(row);
      if (payload === null) break;
      const r = await scope
        .updateTable('events')
        .set({ payload })
        .where('id', '=', row.id)
        .where('ts', '=', row.ts)
        .where('payload', '=', row.payload)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) > 0) {
        changed++;
        break;
      }
      const again = await scope
        .selectFrom('events')
        .select(['id', 'ts', 'agent_id', 'payload'])
        .where('id', '=', row.id)
        .where('ts', '=', row.ts)
        .executeTakeFirst();
      if (!again) break;
      if (attempt >= retries) throw new Error(`event ${row.id} kept changing while it was re-redacted`);
      row = again;
    }
  }
  const last = rows[rows.length - 1];
  return { scanned: rows.length, changed, last: last ? { id: last.id, ts: Number(last.ts) } : null };
}
