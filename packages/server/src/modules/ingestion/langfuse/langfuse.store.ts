/**
 * @module langfuse.store
 * The one read the Langfuse batch route needs before it writes: which of a batch's runs exist, with what
 * the upsert would otherwise overwrite (a later `trace-create` is an update in Langfuse: it must not move the
 * run's start, agent or tags). Org-scoped like every store.
 */
import { type Exec, orgScope } from '../../../db/org-scope.ts';
import type { OrgId } from '../../../platform/caller.ts';

export interface StoredRun {
  agentId: string;
  status: string;
  startedAt: number;
  endedAt: number | null;
  tags: string[];
  metadata: Record<string, unknown>;
}

export async function storedRuns(db: Exec, orgId: OrgId, ids: string[]): Promise<Map<string, StoredRun>> {
  if (ids.length === 0) return new Map();
  const rows = await orgScope(db, orgId)
    .selectFrom('runs')
    .select(['id', 'agent_id', 'status', 'started_at', 'ended_at', 'tags', 'metadata'])
    .where('id', 'in', ids)
    .execute();
  return new Map(
    rows.map((r) => [
      r.id,
      {
        agentId: r.agent_id,
        status: r.status,
        startedAt: Number(r.started_at),
        endedAt: r.ended_at === null ? null : Number(r.ended_at),
        tags: parseJson(r.tags, []),
        metadata: parseJson(r.metadata, {}),
      },
    ]),
  );
}

function parseJson<T>(text: string, fallback: T): T {
  try {
    return (JSON.parse(text) as T) ?? fallback;
  } catch {
    return fallback;
  }
}
