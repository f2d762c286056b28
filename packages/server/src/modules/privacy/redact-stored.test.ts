/**
 * Re-redaction of stored data through the app, on a real database: content ingested under `full`, a
 * decision and an approval, and a run archived past retention, are all found byte by byte; the org then
 * tightens its settings, the job runs, and none of the original values is found in the SQLite files (WAL
 * included) or the PostgreSQL tables, nor in the archives, while the runs stay complete and searchable
 * by what was kept. Also: the explicit trigger (permission, audit, isolation) and resuming after a failure.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orgScope } from '../../db/org-scope.ts';
import { trustedOrgId } from '../../platform/caller.ts';
import { createTestHub, type SeededOrg, type TestHub } from '../../testing/test-hub.ts';
import { content, ORIGINALS, RULES, sentence } from './fixtures.testing.ts';
import { archivedText, storedText } from './stored-text.testing.ts';

let t: TestHub;
beforeAll(async () => {
  t = await createTestHub();
});
afterAll(async () => t?.close());

const iso = (ms: number) => new Date(ms).toISOString();

async function ingest(org: SeededOrg, runId: string, startedAt: number) {
  const r = await t.request('POST', '/v1/ingest/run', {
    auth: org.apiKey,
    body: {
      run_id: runId,
      agent: 'Support',
      status: 'completed',
      started_at: iso(startedAt),
      ended_at: iso(startedAt + 2000),
      input: content(),
      output: { answer: sentence },
      metadata: { customer_email: 'ann.lee@example.com', ticket: 'T-1' },
      events: [
        {
          type: 'llm_call',
          timestamp: iso(startedAt + 100),
          duration_ms: 500,
          payload: { model: 'gpt-4o', input_tokens: 1000, output_tokens: 500, prompt: sentence },
        },
        { type: 'tool_called', timestamp: iso(startedAt + 900), payload: { tool: 'crm', args: content() } },
      ],
    },
  });
  expect(r.status, r.text).toBe(202);
}

/**
 * A run past retention (archived), a recent run and a decision, all holding the originals; with
 * `approval`, the decision asks for one (its audit entry, notification and email then hold the action
 * too, and those are not rewritten: see docs/privacy.md).
 */
async function storeEverything(org: SeededOrg, approval = false) {
  const orgs = t.hub.ctx.db.db.updateTable('orgs').where('id', '=', org.org.id);
  const { plan } = await t.hub.ctx.db.db
    .selectFrom('orgs')
    .select('plan')
    .where('id', '=', org.org.id)
    .executeTakeFirstOrThrow();
  await orgs.set({ plan: 'starter' }).execute(); // 14 days of retention
  await ingest(org, 'old-run', Date.now() - 20 * 86_400_000);
  await ingest(org, 'new-run', Date.now() - 60_000);
  await t.hub.ctx.enrichment.catchUp();
  expect(await t.hub.ctx.retention.runForOrg(trustedOrgId(org.org.id))).toMatchObject({ runs: 1, events: 2 });
  await orgs.set({ plan }).execute(); // back to a plan with approvals
  if (approval) await t.requireApprovalFor(org, 'email.send');
  const ev = await t.request('POST', '/v1/policy/evaluate', {
    auth: org.apiKey,
    body: {
      agent: 'Support',
      run_id: 'new-run',
      action: { type: 'email.send', to: 'ann.lee@example.com', body: sentence },
      context: { customer_card: '4111 1111 1111 1111' },
    },
  });
  expect(ev.body.decision, ev.text).toBe(approval ? 'REQUIRE_APPROVAL' : 'ALLOW');
}

const latest = async (org: SeededOrg) => (await t.request('GET', '/v1/privacy', { auth: org.apiKey })).body.redaction;

describe('re-redaction of stored data', () => {
  it('tightening the settings re-redacts runs, events, decisions, approvals and archives: no original value is left', async () => {
    const a = await t.seedOrg();
    await storeEverything(a);
    // Before: the originals are stored, in the database and in the archive.
    const before = await storedText(t);
    for (const v of ['ann.lee@example.com', '5555555555554444', 'CUST-778812', '12 Baker Street'])
      expect(before.includes(v), v).toBe(true);
    expect(archivedText(t, a.org.id)).toContain('ann.lee@example.com');
    expect((await t.request('GET', '/v1/runs?q=Baker', { auth: a.apiKey })).body.data).toHaveLength(1);

    const put = await t.request('PUT', '/v1/privacy', { auth: a.apiKey, body: { capture: 'redacted', rules: RULES } });
    expect(put.body.redaction).toMatchObject({ status: 'queued', reason: 'tightened', phase: 'runs' });
    await t.hub.ctx.jobs.drain(30_000);

    const job = await latest(a);
    expect(job).toMatchObject({ status: 'completed', phase: 'done', error: null });
    expect(job.counts.runs).toEqual({ scanned: 1, changed: 1 });
    expect(job.counts.events).toEqual({ scanned: 2, changed: 2 });
    expect(job.counts.decisions).toEqual({ scanned: 1, changed: 1 });
    expect(job.counts.approvals).toEqual({ scanned: 0, changed: 0 });
    expect(job.counts.archives).toMatchObject({ changed: 3 }); // the archived run and its two events

    const after = await storedText(t);
    expect(after).toContain('[EMAIL]');
    for (const v of ORIGINALS) expect(after.includes(v), v).toBe(false);
    const archived = archivedText(t, a.org.id);
    expect(archived).toContain('old-run');
    expect(archived).toContain('[EMAIL]');
    for (const v of ORIGINALS) expect(archived.includes(v), v).toBe(false);

    // Still complete and still found by what was kept; no longer by what was removed.
    const run = await t.request('GET', '/v1/runs/new-run', { auth: a.apiKey });
    expect(run.body).toMatchObject({ status: 'completed', input_tokens: 1000, output_tokens: 500 });
    expect(run.body.cost_usd).toBeGreaterThan(0);
    expect(run.body.metadata).toEqual({ customer_email: '[EMAIL]', ticket: 'T-1' });
    expect(run.body.events.map((e: { type: string }) => e.type)).toEqual(['llm_call', 'tool_called']);
    expect(run.body.events[0].payload).toMatchObject({ model: 'gpt-4o', input_tokens: 1000 });
    expect((await t.request('GET', '/v1/runs?q=Baker', { auth: a.apiKey })).body.data).toHaveLength(0);
    expect((await t.request('GET', '/v1/runs?q=Customer', { auth: a.apiKey })).body.data).toHaveLength(1);

    const audit = await t.request('GET', '/v1/audit?entity_type=privacy_redaction', { auth: a.owner });
    expect(audit.body.data.map((e: { action: string }) => e.action).sort()).toEqual([
      'privacy.redaction_completed',
      'privacy.redaction_requested',
    ]);
  });

  it('POST /v1/privacy/redact-stored: settings permission, audited, joins a queued pass, and stays in its org', async () => {
    const a = await t.seedOrg();
    const b = await t.seedOrg();
    const member = await t.addMember(a, 'member');
    const lead = await t.addMember(a, 'team_lead');
    expect((await t.request('POST', '/v1/privacy/redact-stored', { auth: member.auth })).status).toBe(403);
    expect((await t.request('POST', '/v1/privacy/redact-stored', { auth: lead.auth })).status).toBe(403);
    const admin = await t.addMember(a, 'admin');
    const r = await t.request('POST', '/v1/privacy/redact-stored', { auth: admin.auth });
    expect(r.status, r.text).toBe(202);
    expect(r.body).toMatchObject({ status: 'queued', reason: 'requested' });
    const again = await t.request('POST', '/v1/privacy/redact-stored', { auth: a.apiKey });
    expect(again.body.id).toBe(r.body.id);
    expect(await latest(b)).toBeNull();
    await t.hub.ctx.jobs.drain(30_000);
    // Nothing to redact under the default settings: done at once.
    expect(await latest(a)).toMatchObject({ id: r.body.id, status: 'completed', phase: 'done' });
    const audit = await t.request('GET', '/v1/audit?entity_type=privacy_redaction', { auth: a.owner });
    expect(audit.body.data.find((e: { action: string }) => e.action === 'privacy.redaction_requested')).toMatchObject({
      actor: { type: 'user' },
    });
  });

  it('an interrupted pass continues from where it stopped, not from the start; approvals are re-redacted', async () => {
    const a = await t.seedOrg();
    await storeEverything(a, true);
    // An archive the job cannot read: the archives phase fails after the tables are done.
    const bad = join(t.database.dataDir, 'archives', a.org.id, 'zz-broken.jsonl.gz');
    writeFileSync(bad, 'not gzip');
    await t.request('PUT', '/v1/privacy', { auth: a.apiKey, body: { capture: 'metadata_only' } });
    await t.hub.ctx.jobs.drain(30_000);
    const stopped = await latest(a);
    expect(stopped).toMatchObject({ status: 'running', phase: 'archives' });
    expect(stopped.counts.runs).toEqual({ scanned: 1, changed: 1 });
    // The file is repaired; the retry (due after its backoff) takes up the archives and nothing before.
    writeFileSync(bad, gzipSync(''));
    await t.hub.ctx.db.db.updateTable('jobs').set({ run_at: Date.now() }).where('status', '=', 'queued').execute();
    await t.hub.ctx.jobs.drain(30_000);
    const done = await latest(a);
    expect(done).toMatchObject({ id: stopped.id, status: 'completed' });
    expect(done.counts.runs).toEqual({ scanned: 1, changed: 1 });
    expect(done.counts.approvals).toEqual({ scanned: 1, changed: 1 });
    for (const v of ORIGINALS) expect(archivedText(t, a.org.id).includes(v), v).toBe(false);
    const approvals = await t.request('GET', '/v1/approvals', { auth: a.apiKey });
    expect(approvals.body.data[0].action).toEqual({ type: 'email.send', to: '[omitted]', body: '[omitted]' });
    const decision = await orgScope(t.hub.ctx.db.db, trustedOrgId(a.org.id))
      .selectFrom('decisions')
      .select(['action', 'context'])
      .execute();
    expect(JSON.parse(decision[0]!.action)).toEqual({ type: 'email.send', to: '[omitted]', body: '[omitted]' });
    expect(JSON.parse(decision[0]!.context)).toMatchObject({ customer_card: '[omitted]', environment: 'prod' });
  });
});
