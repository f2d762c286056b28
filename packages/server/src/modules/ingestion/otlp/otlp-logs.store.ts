/**
 * @module otlp-logs.store
 * The two reads the OTLP log receiver needs (SQL only, read-only, always org-scoped); every write goes
 * through the ingestion service. Runs and events are this module's own tables (ingestion.store.ts writes
 * them).
 *
 * @example
 * const store = createOtlpLogsStore(db).forOrg(caller.orgId);
 * const runs = await store.runs(['otel_4bf9…']);
 */
import { type Exec, orgScope } from '../../../db/org-scope.ts';
import type { OrgId } from '../../../platform/caller.ts';
import { CONTENT_KIND, type StoredContent } from './genai-log-events.ts';

/** What a re-sent run body needs to leave a run as it is (see `fillRunContent`). */
export interface RunState {
  id: string;
  agentId: string;
  status: 'running' | 'completed' | 'failed';
  startedAt: number;
  endedAt: number | null;
  environment: string | null;
  hasInput: boolean;
  hasOutput: boolean;
  metadata: Record<string, unknown>;
  tags: string[];
}

/** Content events read per call: a run's prompt and choices are a few per model call. */
const MAX_CONTENT_EVENTS = 2000;

export function createOtlpLogsStore(db: Exec) {
  return {
    forOrg(orgId: OrgId) {
      const scope = orgScope(db, orgId);
      return {
        /** The runs among `ids` that exist. */
        async runs(ids: string[]): Promise<Map<string, RunState>> {
          if (ids.length === 0) return new Map();
          const rows = await scope
            .selectFrom('runs')
            .select((eb) => [
              'id',
              'agent_id',
              'status',
              'started_at',
              'ended_at',
              'environment',
              'metadata',
              'tags',
              // Presence only: the values may be large and are not needed.
              eb('input', 'is not', null).as('has_input'),
              eb('output', 'is not', null).as('has_output'),
            ])
            .where('id', 'in', [...new Set(ids)])
            .execute();
          return new Map(
            rows.map((r) => [
              r.id,
              {
                id: r.id,
                agentId: r.agent_id,
                status: r.status as RunState['status'],
                startedAt: Number(r.started_at),
                endedAt: r.ended_at === null ? null : Number(r.ended_at),
                environment: r.environment,
                hasInput: Boolean(r.has_input),
                hasOutput: Boolean(r.has_output),
                metadata: JSON.parse(r.metadata) as Record<string, unknown>,
                tags: JSON.parse(r.tags) as string[],
              },
            ]),
          );
        },

        /** GenAI content events (`log` events of kind gen_ai.content) of these runs, by run. */
        async content(runIds: string[]): Promise<Map<string, StoredContent[]>> {
          const out = new Map<string, StoredContent[]>();
          if (runIds.length === 0) return out;
          const rows = await scope
            .selectFrom('events')
            .select(['run_id', 'ts', 'payload'])
            .where('run_id', 'in', [...new Set(runIds)])
            .where('type', '=', 'log')
            .orderBy('ts')
            .limit(MAX_CONTENT_EVENTS)
            .execute();
          for (const r of rows) {
            const payload = JSON.parse(r.payload) as Record<string, unknown>;
            if (payload.kind !== CONTENT_KIND) continue;
            const list = out.get(r.run_id) ?? [];
            list.push({ ts: Number(r.ts), payload });
            out.set(r.run_id, list);
          }
          return out;
        },
      };
    },
  };
}
export type OtlpLogsStore = ReturnType<typeof createOtlpLogsStore>;
