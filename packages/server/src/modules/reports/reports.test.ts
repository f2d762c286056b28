/**
 * Reports through HTTP on a real database, a real SMTP receiver and a real webhook receiver: definitions
 * and their validation, run now, the email (HTML body, PDF attached, the PDF's text holds the figures),
 * signed `report.delivered` webhooks in JSON and Slack formats, downloads, history, permissions, and
 * tenant isolation of reports and runs.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { ParsedMail } from 'mailparser';
import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySignature } from '../../platform/webhooks/webhook-signature.ts';
import { startSmtpCapture } from '../../testing/smtp-capture.ts';
import { tenantIsolationSuite } from '../../testing/tenant-isolation.ts';
import { createTestHub, type SeededOrg, type TestHub } from '../../testing/test-hub.ts';

let t: TestHub;
let smtp: Awaited<ReturnType<typeof startSmtpCapture>>;
const received: { url: string; headers: IncomingHttpHeaders; body: string }[] = [];
let sink: Server;
let sinkUrl: string;

beforeAll(async () => {
  smtp = await startSmtpCapture();
  // The sink is on loopback, which the egress guard refuses unless the operator allows it.
  t = await createTestHub({ SMTP_URL: smtp.url, SMTP_FROM: 'hub@acme.test', HUB_EGRESS_ALLOW: '127.0.0.1' });
  sink = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      received.push({ url: req.url ?? '', headers: req.headers, body });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
  sinkUrl = `http://127.0.0.1:${(sink.address() as { port: number }).port}`;
});
afterAll(async () => {
  await t?.close();
  await smtp?.close();
  await new Promise((r) => sink?.close(r));
});

/** The text of every page of a PDF, as a reader's copy-paste would give it. */
async function pdfText(bytes: Uint8Array): Promise<string> {
  const doc = await getDocument({ data: new Uint8Array(bytes), verbosity: 0, useSystemFonts: false }).promise;
  let text = '';
  for (let i = 1; i <= doc.numPages; i++) {
    const page = await doc.getPage(i);
    const content = await page.getTextContent();
    text += `${content.items.map((it) => ('str' in it ? it.str : '')).join(' ')}\n`;
  }
  await doc.destroy();
  return text;
}

/** Five runs of `agent` (the last failed), each with one $0.25 LLM call. */
async function ingestRuns(a: SeededOrg, agent: string, n = 5, failedFrom = 4) {
  for (let i = 0; i < n; i++) {
    const r = await t.request('POST', '/v1/ingest/run', {
      auth: a.apiKey,
      body: {
        agent,
        status: i >= failedFrom ? 'failed' : 'completed',
        started_at: new Date(Date.now() - 60_000).toISOString(),
        ended_at: new Date(Date.now() - 55_000).toISOString(),
        ...(i >= failedFrom ? { error: { message: 'the CRM timed out' } } : {}),
        events: [
          {
            type: 'llm_call',
            timestamp: new Date(Date.now() - 58_000).toISOString(),
            payload: { model: 'gpt-4o', input_tokens: 100, output_tokens: 100, cost_usd: 0.25 },
          },
        ],
      },
    });
    expect(r.status).toBe(202);
  }
}

async function webhook(a: SeededOrg, format: 'json' | 'slack', path: string) {
  const r = await t.request('POST', '/v1/webhooks', {
    auth: a.apiKey,
    body: { url: `${sinkUrl}${path}`, events: ['report.delivered'], format, secret: 'whsec_reports_test' },
  });
  expect(r.status).toBe(201);
  return r.body as { id: string };
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    await t.hub.ctx.jobs.runDue();
    const v = probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('report definitions', () => {
  it('creates, reads, lists, updates and deletes a report; schedules resolve to cron in the org zone', async () => {
    const a = await t.seedOrg();
    const c = await t.request('POST', '/v1/reports', {
      auth: a.apiKey,
      body: { name: 'Monday summary', template: 'weekly_summary', schedule: 'weekly', recipients: ['ceo@acme.test'] },
    });
    expect(c.status).toBe(201);
    expect(c.body).toMatchObject({
      name: 'Monday summary',
      template: 'weekly_summary',
      schedule: 'weekly',
      cron: '0 8 * * 1',
      timezone: 'UTC',
      range_days: 7,
      recipients: ['ceo@acme.test'],
      formats: ['html', 'pdf'],
      enabled: true,
    });
    expect(new Date(c.body.next_run_at).getUTCDay()).toBe(1);
    const id = c.body.id as string;
    expect(id).toMatch(/^rpt_/);

    const p = await t.request('PATCH', `/v1/reports/${id}`, {
      auth: a.apiKey,
      body: { schedule: '30 7 1 * *', timezone: 'Europe/Paris', range_days: 30 },
    });
    expect(p.status).toBe(200);
    expect(p.body).toMatchObject({ cron: '30 7 1 * *', timezone: 'Europe/Paris', range_days: 30 });
    const next = new Date(p.body.next_run_at);
    expect(next.getUTCDate() === 1 || next.getUTCDate() >= 28).toBe(true);

    expect((await t.request('GET', `/v1/reports/${id}`, { auth: a.apiKey })).body.name).toBe('Monday summary');
    expect((await t.request('GET', '/v1/reports', { auth: a.apiKey })).body.data.map((r: any) => r.id)).toEqual([id]);
    const schedules = await t.hub.ctx.db.db
      .selectFrom('schedules')
      .selectAll()
      .where('name', '=', `report:${id}`)
      .execute();
    expect(schedules).toHaveLength(1);
    expect(schedules[0]).toMatchObject({ cron: '30 7 1 * *', timezone: 'Europe/Paris', queue: 'report.run' });

    // Turning the schedule off takes it out of the job runner; deleting the report too.
    await t.request('PATCH', `/v1/reports/${id}`, { auth: a.apiKey, body: { schedule: null } });
    expect(
      await t.hub.ctx.db.db.selectFrom('schedules').selectAll().where('name', '=', `report:${id}`).execute(),
    ).toHaveLength(0);
    expect((await t.request('DELETE', `/v1/reports/${id}`, { auth: a.apiKey })).status).toBe(204);
    expect((await t.request('GET', `/v1/reports/${id}`, { auth: a.apiKey })).status).toBe(404);

    const audit = await t.request('GET', '/v1/audit?entity_type=report', { auth: a.apiKey });
    expect(audit.body.data.map((e: any) => e.action)).toEqual(
      expect.arrayContaining(['report.created', 'report.updated', 'report.deleted']),
    );
  });

  it('answers 400 naming the field for an unreadable schedule, an unknown zone or another org’s webhook', async () => {
    const a = await t.seedOrg();
    const b = await t.seedOrg();
    const foreign = await webhook(b, 'json', '/foreign');
    const cases: [object, string][] = [
      [{ schedule: 'every blue moon' }, 'schedule'],
      [{ schedule: '* * *' }, 'schedule'],
      [{ timezone: 'Mars/Olympus_Mons' }, 'timezone'],
      [{ webhook_ids: [foreign.id] }, 'webhook_ids.0'],
      [{ recipients: ['not an address'] }, 'recipients.0'],
      [{ formats: [] }, 'formats'],
      [{ template: 'daily_horoscope' }, 'template'],
    ];
    for (const [extra, path] of cases) {
      const r = await t.request('POST', '/v1/reports', {
        auth: a.apiKey,
        body: { name: 'x', template: 'weekly_summary', ...extra },
      });
      expect(r.status, JSON.stringify(extra)).toBe(400);
      expect(r.body.code).toBe('validation_failed');
      expect(r.body.errors.map((e: any) => e.path)).toContain(path);
    }
  });

  it('viewers read reports and their runs; only managers create, change or run them', async () => {
    const a = await t.seedOrg();
    const viewer = await t.addMember(a, 'viewer');
    const created = await t.request('POST', '/v1/reports', {
      auth: a.apiKey,
      body: { name: 'Costs', template: 'cost_breakdown' },
    });
    const id = created.body.id;
    expect((await t.request('GET', `/v1/reports/${id}`, { auth: viewer.auth })).status).toBe(200);
    expect((await t.request('GET', `/v1/reports/${id}/runs`, { auth: viewer.auth })).status).toBe(200);
    expect(
      (await t.request('POST', '/v1/reports', { auth: viewer.auth, body: { name: 'x', template: 'weekly_summary' } }))
        .status,
    ).toBe(403);
    expect((await t.request('POST', `/v1/reports/${id}/run`, { auth: viewer.auth, body: {} })).status).toBe(403);
    expect((await t.request('DELETE', `/v1/reports/${id}`, { auth: viewer.auth })).status).toBe(403);
  });
});

describe('run now and delivery', () => {
  it('emails HTML with the PDF attached, posts a signed JSON webhook, and keeps the run with both files', async () => {
    const a = await t.seedOrg('Acme Reports');
    await ingestRuns(a, 'ReportBot');
    const hook = await webhook(a, 'json', '/json');
    const rep = await t.request('POST', '/v1/reports', {
      auth: a.apiKey,
      body: {
        name: 'Weekly summary',
        template: 'weekly_summary',
        schedule: 'weekly',
        recipients: ['founder@acme.test', 'cto@acme.test'],
        webhook_ids: [hook.id],
      },
    });
    expect(rep.status).toBe(201);
    const ran = await t.request('POST', `/v1/reports/${rep.body.id}/run`, { auth: a.apiKey, body: {} });
    expect(ran.status).toBe(201);
    expect(ran.body).toMatchObject({
      report_id: rep.body.id,
      trigger: 'manual',
      status: 'delivered',
      template: 'weekly_summary',
    });
    expect(ran.body.summary).toMatchObject({ runs: 5, failed: 1, success_rate: 0.8, cost_usd: 1.25 });
    expect(ran.body.deliveries.map((d: any) => [d.channel, d.target])).toEqual([
      ['email', 'founder@acme.test'],
      ['email', 'cto@acme.test'],
      ['webhook', hook.id],
    ]);

    const mail: ParsedMail = await waitFor('the report email', () =>
      smtp.messages.find(
        (m) => JSON.stringify(m.to).includes('founder@acme.test') && /Weekly summary/.test(m.subject ?? ''),
      ),
    );
    expect(mail.subject).toContain('5 runs, 80% success, $1.25');
    const html = String(mail.html);
    expect(html).toContain('ReportBot');
    expect(html).toContain('$1.25');
    expect(html).toContain('80%');
    expect(html).toContain('4 / 5 runs succeeded');
    expect(html).toContain('<svg'); // charts, inline
    expect(html).toContain('the CRM timed out'); // the incident
    expect(html).not.toMatch(/<script/i);
    expect(mail.text).toContain('Success rate: 80% (4 / 5)');
    const pdf = mail.attachments.find((x) => x.contentType === 'application/pdf')!;
    expect(pdf.filename).toMatch(/^weekly-summary-\d{4}-\d{2}-\d{2}\.pdf$/);
    expect(pdf.content.subarray(0, 5).toString()).toBe('%PDF-');
    const text = await pdfText(pdf.content);
    expect(text).toContain('Weekly summary');
    expect(text).toContain('ReportBot');
    expect(text).toContain('$1.25');
    expect(text).toContain('80%');
    expect(text).toContain('4 / 5 runs succeeded');
    expect(text).toContain('Cost per day');
    expect(text).toContain('Runs per agent');

    const delivery = await waitFor('the webhook', () => received.find((r) => r.url === '/json'));
    expect(verifySignature('whsec_reports_test', delivery.body, delivery.headers['x-hub-signature-256'])).toBe(true);
    expect(verifySignature('another-secret', delivery.body, delivery.headers['x-hub-signature-256'])).toBe(false);
    expect(delivery.headers['x-hub-event']).toBe('report.delivered');
    const event = JSON.parse(delivery.body);
    expect(event).toMatchObject({
      event: 'report.delivered',
      org_id: a.org.id,
      data: {
        report: { id: rep.body.id, name: 'Weekly summary', template: 'weekly_summary' },
        run: { id: ran.body.id, html_url: `http://hub.test/v1/report-runs/${ran.body.id}.html` },
        summary: { runs: 5, cost_usd: 1.25, success_rate: 0.8 },
      },
    });

    // Downloads: exactly what was delivered.
    const dl = await t.request('GET', `/v1/report-runs/${ran.body.id}.html`, { auth: a.apiKey });
    expect(dl.status).toBe(200);
    expect(dl.headers['content-type']).toContain('text/html');
    expect(dl.text).toBe(html);
    const pdfRes = await t.hub.app.inject({
      method: 'GET',
      url: `/v1/report-runs/${ran.body.id}.pdf`,
      headers: { authorization: `Bearer ${a.apiKey}` },
    });
    expect(pdfRes.statusCode).toBe(200);
    expect(pdfRes.headers['content-type']).toBe('application/pdf');
    expect(Buffer.compare(pdfRes.rawPayload, pdf.content)).toBe(0);

    // History, with each delivery's outcome read back from the mailer and the webhooks.
    await waitFor('both emails', () =>
      smtp.messages.filter((m) => /Weekly summary/.test(m.subject ?? '')).length >= 2 ? true : undefined,
    );
    const runs = await t.request('GET', `/v1/reports/${rep.body.id}/runs`, { auth: a.apiKey });
    expect(runs.body.data).toHaveLength(1);
    expect(runs.body.data[0].deliveries.map((d: any) => d.status)).toEqual(['sent', 'sent', 'delivered']);
    expect(runs.body.data[0].pdf_bytes).toBeGreaterThan(1000);
    const one = await t.request('GET', `/v1/report-runs/${ran.body.id}`, { auth: a.apiKey });
    expect(one.body).toMatchObject({ id: ran.body.id, report_name: 'Weekly summary' });
    expect((await t.request('GET', `/v1/reports/${rep.body.id}`, { auth: a.apiKey })).body.last_run_at).not.toBeNull();
  });

  it('Slack webhooks get text blocks with the figures; reports without chosen webhooks reach subscribers', async () => {
    const a = await t.seedOrg();
    await ingestRuns(a, 'SlackBot');
    await webhook(a, 'slack', '/slack');
    const rep = await t.request('POST', '/v1/reports', {
      auth: a.apiKey,
      body: { name: 'Team <digest> & costs', template: 'weekly_summary' },
    });
    const ran = await t.request('POST', `/v1/reports/${rep.body.id}/run`, { auth: a.apiKey, body: {} });
    expect(ran.status).toBe(201);
    const d = await waitFor('the slack webhook', () => received.find((r) => r.url === '/slack'));
    expect(verifySignature('whsec_reports_test', d.body, d.headers['x-hub-signature-256'])).toBe(true);
    const msg = JSON.parse(d.body);
    expect(Object.keys(msg).sort()).toEqual(['blocks', 'text']);
    expect(msg.blocks[0]).toMatchObject({ type: 'section', text: { type: 'mrkdwn' } });
    expect(msg.text).toBe(msg.blocks[0].text.text);
    // Title in bold, data escaped for mrkdwn, the figures and a link to the full report.
    expect(msg.text.startsWith('*Team &lt;digest&gt; &amp; costs (')).toBe(true);
    expect(msg.text).toContain('5 runs, 80% success, $1.25');
    expect(msg.text).toContain(`Full report: http://hub.test/v1/report-runs/${ran.body.id}.html`);
    expect(msg.text).toContain('SlackBot');
  });

  it('runs any template over any range; deliver:false keeps the run and sends nothing', async () => {
    const a = await t.seedOrg();
    await ingestRuns(a, 'CostBot', 3, 3);
    for (const template of ['monthly_summary', 'cost_breakdown', 'policy_violations']) {
      const rep = await t.request('POST', '/v1/reports', {
        auth: a.apiKey,
        body: { name: `Ad hoc ${template}`, template, recipients: ['ops@acme.test'] },
      });
      const ran = await t.request('POST', `/v1/reports/${rep.body.id}/run`, {
        auth: a.apiKey,
        body: { from: new Date(Date.now() - 3_600_000).toISOString(), to: new Date().toISOString(), deliver: false },
      });
      expect(ran.status, template).toBe(201);
      expect(ran.body.status).toBe('generated');
      expect(ran.body.deliveries).toEqual([]);
      const html = (await t.request('GET', `/v1/report-runs/${ran.body.id}.html`, { auth: a.apiKey })).text;
      if (template === 'cost_breakdown') {
        expect(html).toContain('By model');
        expect(html).toContain('gpt-4o');
        expect(html).toContain('$0.75');
      }
      if (template === 'policy_violations') expect(html).toContain('Blocked actions');
      if (template === 'monthly_summary') expect(html).toContain('CostBot');
    }
    await t.hub.ctx.jobs.drain();
    expect(smtp.messages.filter((m) => JSON.stringify(m.to).includes('ops@acme.test'))).toEqual([]);

    const bad = await t.request('POST', '/v1/reports/preview', {
      auth: a.apiKey,
      body: { template: 'weekly_summary', from: '2026-01-02T00:00:00Z', to: '2026-01-01T00:00:00Z' },
    });
    expect(bad.status).toBe(400);
    const preview = await t.request('POST', '/v1/reports/preview', {
      auth: a.apiKey,
      body: { template: 'weekly_summary', name: 'Draft' },
    });
    expect(preview.status).toBe(200);
    expect(preview.headers['content-type']).toContain('text/html');
    expect(preview.text).toContain('CostBot');
  });
});

tenantIsolationSuite('reports', () => t, {
  create: async (a) =>
    (
      await t.request('POST', '/v1/reports', {
        auth: a.apiKey,
        body: { name: 'Secret board report', template: 'weekly_summary', schedule: 'weekly' },
      })
    ).body,
  routes: (id) => [
    ['GET', `/v1/reports/${id}`],
    ['PATCH', `/v1/reports/${id}`, { name: 'taken over' }],
    ['POST', `/v1/reports/${id}/run`, {}],
    ['GET', `/v1/reports/${id}/runs`],
    ['DELETE', `/v1/reports/${id}`],
  ],
  list: ['/v1/reports'],
  marker: () => 'Secret board report',
});

tenantIsolationSuite('report runs', () => t, {
  create: async (a) => {
    const rep = await t.request('POST', '/v1/reports', {
      auth: a.apiKey,
      body: { name: 'Private run', template: 'cost_breakdown' },
    });
    return (await t.request('POST', `/v1/reports/${rep.body.id}/run`, { auth: a.apiKey, body: { deliver: false } }))
      .body;
  },
  routes: (id) => [
    ['GET', `/v1/report-runs/${id}`],
    ['GET', `/v1/report-runs/${id}.html`],
    ['GET', `/v1/report-runs/${id}.pdf`],
  ],
});
