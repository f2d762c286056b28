// biome-ignore-all lint/suspicious/noThenProperty: `then` is the field name of a policy rule in the public API.
import { PolicyBody, validatePolicy } from '@agentops-hub/contracts';
import { describe, expect, it } from 'vitest';
import { parsePolicyYaml, toYaml } from './policy-yaml.ts';

const doc = `name: Discounts over 10% need a human
description: Outreach emails that promise more than 10% off wait for sales lead approval
status: active
priority: 100
rule:
  when:
    all:
      - { field: agent.name, op: eq, value: OutreachBot }
      - { field: action.type, op: eq, value: send_email }
      - { field: action.discount, op: gt, value: 10 }
  then: require_approval
  approval_timeout_s: 3600
`;

describe('policy YAML', () => {
  it('parses the documented example into a valid policy', () => {
    const r = parsePolicyYaml(doc);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const p = PolicyBody.parse(r.value);
    expect(p.rule.when).toEqual({
      all: [
        { field: 'agent.name', op: 'eq', value: 'OutreachBot' },
        { field: 'action.type', op: 'eq', value: 'send_email' },
        { field: 'action.discount', op: 'gt', value: 10 },
      ],
    });
    expect(p.rule.approval_timeout_s).toBe(3600);
  });

  it('round-trips: toYaml then parse gives the same policy', () => {
    const p = PolicyBody.parse({
      name: 'Block: refunds "over" 500',
      description: 'multi\nline',
      status: 'active',
      priority: -3,
      rule: {
        when: {
          any: [
            { not: { field: 'action.to', op: 'matches', value: '@(corp|partner)\\.com$' } },
            { field: 'agent.tags', op: 'in', value: ['yes', 'no', '10', 10, true] },
            { field: 'action.amount', op: 'exists', value: false },
          ],
        },
        then: 'require_approval',
        approvers: { roles: ['team_lead'], team_id: 'team_1' },
        approval_timeout_s: 600,
        message: 'Needs: a lead',
      },
    });
    const text = toYaml({ ...p, id: 'pol_1', version: 4 });
    expect(text).toContain('# pol_1 · version 4');
    expect(text).toContain('- { field: action.amount, op: exists, value: false }');
    const back = parsePolicyYaml(text);
    expect(back.ok && PolicyBody.parse(back.value)).toEqual(p);
  });

  it('reports syntax errors with line and column under (yaml)', () => {
    const r = parsePolicyYaml('name: x\nrule:\n  when: { field: a\n  then: block\n');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors[0].path).toBe('(yaml)');
    expect(r.errors[0].message).toMatch(/^line \d+, column \d+: /);
  });

  it('refuses duplicate keys, several documents, non-mappings and alias bombs', () => {
    const fails = (src: string) => {
      const r = parsePolicyYaml(src);
      return r.ok ? null : r.errors[0];
    };
    expect(fails('name: a\nname: b\n')?.message).toMatch(/line 2/);
    expect(fails('name: a\n---\nname: b\n')).not.toBeNull();
    expect(fails('- a\n- b\n')?.message).toContain('mapping');
    expect(fails('just text')?.message).toContain('mapping');
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x]',
      ...Array.from({ length: 8 }, (_, i) => {
        const prev = i === 0 ? 'a' : `l${i - 1}`;
        return `l${i}: &l${i} [*${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}]`;
      }),
    ].join('\n');
    expect(fails(bomb)?.path).toBe('(yaml)');
  });

  it('a YAML document that parses but is not a valid policy gets field paths', () => {
    const r = parsePolicyYaml(
      'name: x\nrule:\n  when: { field: action.amount, op: bigger, value: 1 }\n  then: block\n',
    );
    expect(r.ok && validatePolicy(r.value).errors.map((e) => e.path)).toEqual(['rule.when.op']);
  });

  it('YAML 1.2: yes/no and dates stay strings', () => {
    const r = parsePolicyYaml(
      'name: x\nrule:\n  when: { field: action.a, op: in, value: [yes, 2025-01-01] }\n  then: block\n',
    );
    expect(r.ok && (r.value.rule as { when: { value: unknown } }).when.value).toEqual(['yes', '2025-01-01']);
  });
});
