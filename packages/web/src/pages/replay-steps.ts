/**
 * Turns a run's events, policy decisions and approvals into one time-ordered list of steps for the
 * replay, each with its offset and duration on the run's timeline (the waterfall).
 */
import type { RunDetail } from '@agentops-hub/contracts';
import { actionParts } from '../lib/action-sentence';
import { usdCall } from '../lib/format';

export type StepKind = 'llm' | 'tool' | 'tool_result' | 'action' | 'decision' | 'approval' | 'run';

export interface Step {
  key: string;
  kind: StepKind;
  at: number;
  durationMs: number | null;
  title: string;
  subtitle: string;
  color: string;
  detail: unknown;
}

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * An `external_action` event's title and subtitle. The SDKs nest the action (`{action: {type, …}, status}`);
 * other sources send it flat (`{type, …}`) or name it with a string (`{action: 'send_email'}`).
 */
function externalAction(p: Record<string, unknown>): { title: string; subtitle: string } {
  const action = isRecord(p.action) ? p.action : typeof p.action === 'string' ? { ...p, type: p.action } : p;
  const { phrase } = actionParts({ ...action, type: action.type ?? action.name ?? 'action' });
  const error = isRecord(p.error) ? (p.error.message ?? p.error.name) : p.error;
  const status = typeof p.status === 'string' ? p.status : null;
  return {
    title: `External action · ${phrase}`,
    subtitle: [status, error === undefined ? null : short(error)].filter(Boolean).join(' · '),
  };
}

export function buildSteps(run: RunDetail): Step[] {
  const steps: Step[] = [];
  for (const e of run.events) {
    const p = e.payload ?? {};
    const at = Date.parse(e.timestamp);
    const dur = e.duration_ms ?? num(p.duration_ms) ?? num(p.latency_ms);
    const base = { key: `evt:${e.id}`, at, durationMs: dur, detail: e };
    switch (e.type) {
      case 'llm_call': {
        const tokens = (e.input_tokens ?? num(p.input_tokens) ?? 0) + (e.output_tokens ?? num(p.output_tokens) ?? 0);
        const cost = e.cost_usd ?? num(p.cost_usd);
        steps.push({
          ...base,
          kind: 'llm',
          color: 'violet',
          title: `LLM call · ${e.model ?? p.model ?? 'model'}`,
          // One call: sub-cent precision is what tells calls apart (totals elsewhere are in cents).
          subtitle: `${tokens} tokens${cost !== null && cost !== undefined ? ` · ${usdCall(cost)}` : ''}`,
        });
        break;
      }
      case 'tool_called':
        steps.push({
          ...base,
          kind: 'tool',
          color: 'blue',
          title: `Tool call · ${label(p.tool ?? p.name ?? 'tool')}`,
          subtitle: p.input !== undefined ? `input ${short(p.input)}` : '',
        });
        break;
      case 'tool_result':
        steps.push({
          ...base,
          kind: 'tool_result',
          color: 'cyan',
          title: `Tool result · ${label(p.tool ?? p.name ?? 'tool')}`,
          subtitle: short(p.output ?? p.result ?? p.error ?? ''),
        });
        break;
      case 'external_action':
        steps.push({ ...base, kind: 'action', color: 'orange', ...externalAction(p) });
        break;
      default:
        steps.push({
          ...base,
          kind: 'run',
          color: e.type === 'run_failed' ? 'red' : 'gray',
          title: e.type.replace(/_/g, ' '),
          // `log` events carry their text in `message` (OTLP log records, GenAI prompt and completion messages).
          subtitle: e.type === 'log' && typeof p.message === 'string' ? short(p.message) : '',
        });
    }
  }
  for (const d of run.decisions) {
    steps.push({
      key: `dec:${d.id}`,
      kind: 'decision',
      at: Date.parse(d.at),
      durationMs: null,
      color: d.decision === 'ALLOW' ? 'teal' : d.decision === 'BLOCK' ? 'red' : 'yellow',
      title: `Policy decision · ${d.decision}`,
      subtitle: `${actionParts(d.action).phrase}${d.reasons.length ? ` · ${d.reasons.map((r) => r.name).join(', ')}` : ''}`,
      detail: d,
    });
  }
  for (const a of run.approvals) {
    const requested = Date.parse(a.requested_at);
    const decided = a.decided_at ? Date.parse(a.decided_at) : null;
    steps.push({
      key: `apr:${a.id}`,
      kind: 'approval',
      at: requested,
      durationMs: decided ? decided - requested : null,
      color: a.status === 'approved' ? 'teal' : a.status === 'pending' ? 'yellow' : 'red',
      title: `Approval · ${a.status}`,
      subtitle: a.decided_by ? `by ${a.decided_by}${a.comment ? ` — “${a.comment}”` : ''}` : 'waiting for a person',
      detail: a,
    });
  }
  return steps.sort((x, y) => x.at - y.at || x.key.localeCompare(y.key));
}

/** The run's span on the timeline: from its start to its end, or to its last step. */
export function timelineBounds(run: RunDetail, steps: Step[]) {
  const start = Math.min(Date.parse(run.started_at), ...steps.map((s) => s.at));
  const endCandidates = [run.ended_at ? Date.parse(run.ended_at) : 0, ...steps.map((s) => s.at + (s.durationMs ?? 0))];
  const end = Math.max(start + 1, ...endCandidates);
  return { start, end, total: end - start };
}

/** A name for a title: strings and numbers as they are, anything else shortened JSON (never "[object Object]"). */
function label(v: unknown): string {
  return typeof v === 'string' || typeof v === 'number' ? String(v) : short(v);
}

function short(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 77)}…` : s;
}
