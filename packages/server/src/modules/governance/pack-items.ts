/**
 * The items a rendered pack writes (policies, budgets, notification settings) and the hash of the part
 * of each that a pack controls: the hash is how apply and unapply tell an item nobody touched from one a
 * person changed.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../platform/audit/audit-chain.ts';
import type { RenderedPack } from './pack-catalog.ts';

export const hashOf = (v: unknown) => createHash('sha256').update(canonicalJson(v)).digest('hex');

/** The parts of a policy a pack writes; hashing only these ignores hit counts and timestamps. */
export const policyContent = (p: {
  name: string;
  description?: string;
  status?: string;
  priority?: number;
  rule: unknown;
}) => ({
  name: p.name,
  description: p.description ?? '',
  status: p.status ?? 'active',
  priority: p.priority ?? 0,
  rule: p.rule,
});
export const budgetContent = (b: Record<string, unknown>) => ({
  name: b.name ?? null,
  scope: b.scope,
  scope_id: b.scope_id ?? null,
  amount_usd: Number(b.amount_usd),
  period: b.period,
  thresholds: b.thresholds,
  on_exceed: b.on_exceed,
});

export type Kind = 'policy' | 'budget' | 'notification';
export interface Desired {
  kind: Kind;
  key: string;
  summary: string;
  hash: string;
  /** Policy body, budget body, or the notification flag. */
  content: unknown;
}

/** Every item the rendered pack would write, with the hash of its content. */
export function desiredItems(r: RenderedPack): Desired[] {
  const out: Desired[] = r.policies.map((p) => ({
    kind: 'policy',
    key: p.key,
    summary: p.summary,
    content: p.body,
    hash: hashOf(policyContent(p.body)),
  }));
  for (const b of r.budgets)
    out.push({
      kind: 'budget',
      key: b.key,
      summary: b.summary,
      content: b.body,
      hash: hashOf(budgetContent(b.body)),
    });
  if (r.notifications)
    for (const channel of ['in_app', 'email'] as const)
      for (const [topic, on] of Object.entries(r.notifications[channel]))
        out.push({
          kind: 'notification',
          key: `${channel}.${topic}`,
          summary: `${on ? 'Turn on' : 'Turn off'} ${channel === 'email' ? 'email' : 'in-app'} notifications for ${topic.replace(/_/g, ' ')} (org default). ${r.notifications.summary}`,
          content: on,
          hash: hashOf(on),
        });
  return out;
}
