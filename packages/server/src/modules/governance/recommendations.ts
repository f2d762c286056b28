/**
 * Which packs fit an org, best first, each with the reasons in words. Scoring, highest weight first:
 * the org's industry is one the pack was written for (+5), the org has agents of the pack's agent types
 * (+3, +1 per further agent, at most +5), agents carrying the pack's tags, whatever their type (+2, +1
 * per further agent, at most +4), and a baseline pack fits any org (+1). Starter packs (healthcare, fintech) are offered only
 * to their industries. Packs already applied come last, flagged; a newer version says so.
 */
import type { PolicyPackFile } from '@agentops-hub/contracts';

export interface OrgProfile {
  industry: string | null;
  agents: { name: string; type: string | null; tags: string[] }[];
  applied: Map<string, number>;
}

/** "E-Commerce" and "ecommerce" are the same industry; "customer_support" and "Customer Support" too. */
export const normalizeWord = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');

function names(list: string[], max = 3) {
  const shown = list.slice(0, max).join(', ');
  return list.length > max ? `${shown} and ${list.length - max} more` : shown;
}

export function recommendPacks(packs: PolicyPackFile[], org: OrgProfile) {
  const industry = org.industry ? normalizeWord(org.industry) : null;
  const out = [];
  for (const pack of packs) {
    const reasons: string[] = [];
    let score = 0;
    const industryFits = industry !== null && pack.industries.some((i) => normalizeWord(i) === industry);
    if (pack.starter && !industryFits) continue;
    if (industryFits) {
      score += 5;
      reasons.push(`Written for ${org.industry} businesses, your industry.`);
    }
    const types = new Set(pack.agent_types.map(normalizeWord));
    const byType = org.agents.filter((a) => a.type && types.has(normalizeWord(a.type)));
    if (byType.length) {
      score += Math.min(5, 2 + byType.length);
      const kinds = [...new Set(byType.map((a) => a.type!))].join(', ');
      reasons.push(
        `You have ${byType.length === 1 ? 'an agent' : `${byType.length} agents`} of type ${kinds}: ${names(byType.map((a) => a.name))}.`,
      );
    }
    const tags = new Set(pack.agent_tags.map(normalizeWord));
    const byTag = org.agents.filter((a) => a.tags.some((t) => tags.has(normalizeWord(t))));
    if (byTag.length) {
      score += Math.min(4, 1 + byTag.length);
      const matched = [...new Set(byTag.flatMap((a) => a.tags.filter((t) => tags.has(normalizeWord(t)))))].join(', ');
      reasons.push(`Agents tagged ${matched}: ${names(byTag.map((a) => a.name))}.`);
    }
    if (pack.baseline) {
      score += 1;
      reasons.push('A sensible baseline for any org: apply it now, tune it later.');
    }
    if (score === 0) continue;
    const appliedVersion = org.applied.get(pack.id);
    const applied = appliedVersion !== undefined;
    const upgrade = applied && appliedVersion < pack.version;
    if (upgrade) reasons.push(`Version ${pack.version} is available; you applied version ${appliedVersion}.`);
    else if (applied) reasons.push('Already applied.');
    if (pack.starter) reasons.push('A starter: review it with whoever owns compliance in your company.');
    out.push({
      id: pack.id,
      name: pack.name,
      description: pack.description,
      starter: pack.starter,
      score,
      reasons,
      applied,
      upgrade_available: upgrade,
    });
  }
  return out.sort(
    (a, b) =>
      Number(a.applied && !a.upgrade_available) - Number(b.applied && !b.upgrade_available) ||
      b.score - a.score ||
      a.id.localeCompare(b.id),
  );
}
