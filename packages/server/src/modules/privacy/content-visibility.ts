/**
 * @module content-visibility
 * What a caller without `view_content` sees of a run: everything but its content. Input, output, error,
 * metadata values and event payloads are replaced by `[hidden]`; the hub's own payload fields (model,
 * tokens, cost, duration, tool, status) stay, so the timeline, costs and decisions still read.
 *
 * @example
 * mayViewContent(caller) ? run : hideRunContent(run);
 */
import type { Permission } from '@agentops-hub/contracts';
import { HUB_FIELDS } from './redactor.ts';

export const HIDDEN = '[hidden]';

/**
 * Whether a caller sees the content of runs of an agent owned by `agentTeam`: everywhere with
 * `view_content`, or on their teams' agents with `view_content:team` (team leads).
 */
export function mayViewContent(
  c: { permissions: ReadonlySet<Permission>; teamIds: readonly string[] },
  agentTeam?: string | null,
): boolean {
  if (c.permissions.has('view_content')) return true;
  return Boolean(agentTeam) && c.permissions.has('view_content:team') && c.teamIds.includes(agentTeam!);
}

const hideValue = (v: unknown) => (v === null || v === undefined ? v : HIDDEN);

function hidePayload(p: unknown): unknown {
  if (p === null || typeof p !== 'object' || Array.isArray(p)) return hideValue(p);
  const out: Record<string, unknown> = {};
  // control_hold is the hub's own flag (a paused agent's run), not content.
  for (const [k, v] of Object.entries(p))
    out[k] = (HUB_FIELDS.has(k) && typeof v !== 'object') || k === 'control_hold' ? v : hideValue(v);
  return out;
}

/** A run DTO (with or without `events`) with its content hidden. */
export function hideRunContent<R extends Record<string, unknown>>(run: R): R {
  const out: Record<string, unknown> = {
    ...run,
    input: hideValue(run.input),
    output: hideValue(run.output),
    error: hideValue(run.error),
    metadata: hidePayload(run.metadata),
    content_hidden: true,
  };
  if (Array.isArray(run.events))
    out.events = run.events.map((e: Record<string, unknown>) => ({ ...e, payload: hidePayload(e.payload) }));
  return out as R;
}
