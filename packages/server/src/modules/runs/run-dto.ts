/** Row → wire mapping for runs and events. Money leaves as USD; inside it is integer nano-USD. */
import { runOutcome } from '@agentops-hub/contracts';
import type { Selectable } from 'kysely';
import type { EventsTable, RunsTable } from '../../db/schema.ts';

const iso = (t: number | null) => (t === null ? null : new Date(Number(t)).toISOString());
const json = (t: string | null) => (t === null ? null : JSON.parse(t));
export const nanoToUsd = (n: number | null) => (n === null ? null : Number(n) / 1e9);

export function toRun(r: Selectable<RunsTable>, agentName: string) {
  const started = Number(r.started_at);
  const error = json(r.error);
  return {
    id: r.id,
    agent_id: r.agent_id,
    agent_name: agentName,
    parent_run_id: r.parent_run_id,
    status: r.status,
    outcome: runOutcome({ status: r.status, error }),
    started_at: iso(started)!,
    ended_at: iso(r.ended_at),
    latency_ms: r.ended_at === null ? null : Math.max(0, Number(r.ended_at) - started),
    environment: r.environment,
    external_ref: r.external_ref,
    input: json(r.input),
    output: json(r.output),
    error,
    input_tokens: Number(r.input_tokens),
    output_tokens: Number(r.output_tokens),
    cost_usd: nanoToUsd(Number(r.cost_nano))!,
    cost_unknown: Number(r.cost_unknown) === 1,
    metadata: JSON.parse(r.metadata),
    tags: JSON.parse(r.tags),
  };
}

export function toEvent(e: Selectable<EventsTable>) {
  return {
    id: e.id,
    run_id: e.run_id,
    agent_id: e.agent_id,
    type: e.type,
    timestamp: iso(Number(e.ts))!,
    parent_id: e.parent_id,
    duration_ms: e.duration_ms === null ? null : Number(e.duration_ms),
    payload: JSON.parse(e.payload),
    ...(e.type === 'llm_call'
      ? {
          model: e.model,
          input_tokens: e.input_tokens === null ? null : Number(e.input_tokens),
          output_tokens: e.output_tokens === null ? null : Number(e.output_tokens),
          cost_usd: nanoToUsd(e.cost_nano === null ? null : Number(e.cost_nano)),
          cost_source: e.cost_source,
        }
      : {}),
  };
}
