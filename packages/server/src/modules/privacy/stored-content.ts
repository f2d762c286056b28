/**
 * @module stored-content
 * What a redactor makes of content that is already stored as JSON text: a run's input, output, error and
 * metadata, an event's payload, and a policy action (the decision row, the approval, the audit entry).
 * Used by the re-redaction job on stored rows and archives, and by the policies module when it records a
 * decision. Redaction is idempotent (a label or hash passes the detectors unchanged), so running a page
 * again after an interruption changes nothing more.
 *
 * Module functions with loops, no closures: `keptAction` runs on every recorded decision of an org with
 * privacy settings, and under tsx a function made inside a hot function costs a defineProperty per call.
 *
 * @example
 * keptAction(red, agentId, { type: 'email.send', to: 'ann@example.com' }); // { type: 'email.send', to: '[EMAIL]' }
 */
import type { Redactor } from './redactor.ts';

/** The hub's own flag on a paused agent's run (ingestion adds it after redaction): kept as it is. */
const HOLD_KEY = 'control_hold';

/**
 * An action as a decision, approval or audit entry may keep it under the agent's capture level. `type`
 * stays as sent: it is the action's name (also the `action_type` column), what rules and simulations
 * match first. The decision itself is made on the whole action; only what is kept is redacted.
 */
export function keptAction(red: Redactor, agentId: string, action: Record<string, unknown>): Record<string, unknown> {
  const out = red.payload(agentId, action);
  if (out !== action && action.type !== undefined) out.type = action.type;
  return out;
}

/** The keys the hub itself puts in a decision's context (policies' engine/context.ts): never content. */
const HUB_CONTEXT_KEYS: ReadonlySet<string> = new Set(['hour', 'weekday', 'environment', 'date']);

/**
 * The decision's context as kept: the caller's own keys redacted like an action's, the hub's (hour,
 * weekday, environment, date; they win over the caller's) as they are.
 */
export function keptContext(red: Redactor, agentId: string, context: Record<string, unknown>): Record<string, unknown> {
  const sent: Record<string, unknown> = {};
  let any = false;
  for (const k of Object.keys(context))
    if (!HUB_CONTEXT_KEYS.has(k)) {
      sent[k] = context[k];
      any = true;
    }
  if (!any) return context;
  const kept = red.payload(agentId, sent);
  if (kept === sent) return context;
  for (const k of Object.keys(context)) if (HUB_CONTEXT_KEYS.has(k)) kept[k] = context[k];
  return kept;
}

/** A stored context (a decision's) redacted again. */
export function redactContextJson(red: Redactor, agentId: string, json: string): string {
  const c = parse(json);
  if (c === null || typeof c !== 'object' || Array.isArray(c)) return JSON.stringify(red.content(agentId, c));
  return JSON.stringify(keptContext(red, agentId, c as Record<string, unknown>));
}

const parse = (json: string): unknown => {
  try {
    return JSON.parse(json);
  } catch {
    return json; // stored as plain text: redacted as one string
  }
};

/** A stored JSON column (run input, output or error) redacted again; null stays null. */
export function redactJsonColumn(red: Redactor, agentId: string, json: string | null): string | null {
  if (json === null) return null;
  const v = red.content(agentId, parse(json));
  return v === null || v === undefined ? null : JSON.stringify(v);
}

/** Run metadata redacted again; the hub's `control_hold` flag is kept. */
export function redactMetadata(red: Redactor, agentId: string, json: string): string {
  const m = parse(json);
  if (m === null || typeof m !== 'object' || Array.isArray(m)) return JSON.stringify(red.content(agentId, m));
  const meta = m as Record<string, unknown>;
  const hold = meta[HOLD_KEY];
  if (hold !== undefined) delete meta[HOLD_KEY];
  const out = red.attributes(agentId, meta);
  if (hold !== undefined) out[HOLD_KEY] = hold;
  return JSON.stringify(out);
}

/** An event payload redacted again. */
export function redactPayload(red: Redactor, agentId: string, json: string): string {
  const p = parse(json);
  if (p === null || typeof p !== 'object' || Array.isArray(p)) return JSON.stringify(red.content(agentId, p));
  return JSON.stringify(red.payload(agentId, p as Record<string, unknown>));
}

/** A stored action (decision or approval) redacted again. */
export function redactActionJson(red: Redactor, agentId: string, json: string): string {
  const a = parse(json);
  if (a === null || typeof a !== 'object' || Array.isArray(a)) return JSON.stringify(red.content(agentId, a));
  return JSON.stringify(keptAction(red, agentId, a as Record<string, unknown>));
}
