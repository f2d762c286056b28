/**
 * Binds an approval to exactly the action it approved: the hash of `{agent_id, action}` is stored with
 * the approval, and re-evaluating with `approval_id` only succeeds when the new request hashes the same.
 * Key order must not matter (clients re-serialize objects freely), so the JSON is canonical: keys sorted
 * at every level, arrays in order, `undefined` dropped as JSON.stringify does.
 */
import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every depth. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function')
    return canonicalJson((value as { toJSON: () => unknown }).toJSON());
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const entries = Object.keys(value)
    .sort()
    .filter(
      (k) =>
        (value as Record<string, unknown>)[k] !== undefined &&
        typeof (value as Record<string, unknown>)[k] !== 'function',
    )
    .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
  return `{${entries.join(',')}}`;
}

/**
 * SHA-256 (hex) of the canonical `{agent_id, action}`.
 * @example
 * actionHash('agt_1', { type: 'send_email', discount: 15 }) === actionHash('agt_1', { discount: 15, type: 'send_email' }) // true
 */
export function actionHash(agentId: string, action: Record<string, unknown>): string {
  return createHash('sha256')
    .update(canonicalJson({ agent_id: agentId, action }))
    .digest('hex');
}
