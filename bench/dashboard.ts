/**
 * `npm run bench -- dashboard`: the dashboard queries (GET /v1/stats/overview and
 * GET /v1/stats/agents/{id}, 30-day range) measured with 100k and then 1M events loaded, through the
 * hub's HTTP handling (app.inject) on the SQLite default. They read hourly rollups, so their cost should
 * not grow with raw events. Prints {"bench":"dashboard", overview_p95_ms, agent_stats_p95_ms (both at 1M),
 * growth_1m_vs_100k (the larger p95 ratio)}, and the same for the cost and budget queries (GET /v1/costs
 * grouped by agent, team, model and day; GET /v1/budgets with an org, a team and an agent budget counting
 * the load as it is enriched), and one alert evaluation pass (alert_pass_p95_ms: every signal, org- and
 * agent-scoped rules, evaluated by the job's own code). Targets: p95 ≤ 50 ms, growth ≤ 1.5.
 * BENCH_EVENTS_SMALL / BENCH_EVENTS_LARGE change the two sizes.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildHub } from '../packages/server/src/app.ts';
import { loadConfig } from '../packages/server/src/config.ts';
import { headlessInit } from '../packages/server/src/init.ts';
import { trustedOrgId } from '../packages/server/src/platform/caller.ts';

const SMALL = Number(process.env.BENCH_EVENTS_SMALL ?? 100_000);
const LARGE = Number(process.env.BENCH_EVENTS_LARGE ?? 1_000_000);
const KEY = `ahk_${'DaShBoArD'.repeat(5)}`;
const AGENTS = 20;
const MODELS = ['gpt-4o', 'gpt-4o-mini', 'claude-3-5-sonnet-20241022', 'gemini-2.0-flash'];
const DAYS = 30;
const EVENTS_PER_RUN = 5;

const hub = await buildHub(
  loadConfig({
    HUB_DATA_DIR: mkdtempSync(join(tmpdir(), 'bench-dash-')),
    HUB_LOG_LEVEL: 'silent',
    RATE_LIMIT_PER_MINUTE: '1000000000',
    RATE_LIMIT_INGEST_PER_MINUTE: '1000000000',
    RATE_LIMIT_ORG_PER_MINUTE: '1000000000',
    HUB_INIT_ORG_NAME: 'Dash',
    HUB_INIT_USER_EMAIL: 'dash@example.test',
    HUB_INIT_USER_PASSWORD: 'dash-password-123',
    HUB_INIT_API_KEY: KEY,
  }),
  { logger: false },
);
await headlessInit(hub.ctx);
const me = JSON.parse((await hub.app.inject({ url: '/v1/me', headers: { authorization: `Bearer ${KEY}` } })).body);
const principal = { orgId: trustedOrgId(me.org.id), actor: { type: 'system' as const, id: null, name: 'bench' } };

let loadedEvents = 0;
let runSeq = 0;
/** Loads runs (5 events each) spread over the last 30 days across 20 agents and 4 models. */
async function loadTo(target: number) {
  const now = Date.now();
  while (loadedEvents < target) {
    const batch = [];
    for (let i = 0; i < 200 && loadedEvents < target; i++, loadedEvents += EVENTS_PER_RUN) {
      const n = runSeq++;
      const start = now - Math.floor(Math.random() * DAYS * 86_400_000);
      const failed = n % 11 === 0;
      const iso = (ms: number) => new Date(start + ms).toISOString();
      batch.push(
        hub.ctx.ingestion.ingestRun(principal, {
          run_id: `dash-${n}`,
          agent: `Agent-${n % AGENTS}`,
          status: failed ? 'failed' : 'completed',
          started_at: iso(0),
          ended_at: iso(200 + (n % 50) * 40),
          input: { ticket: `T-${n}` },
          events: [
            { type: 'run_started', timestamp: iso(0), payload: {} },
            { type: 'tool_called', timestamp: iso(10), payload: { tool: 'lookup' } },
            {
              type: 'llm_call',
              timestamp: iso(20),
              payload: {
                model: MODELS[n % MODELS.length]!,
                input_tokens: 800 + (n % 400),
                output_tokens: 120 + (n % 80),
              },
            },
            { type: 'tool_result', timestamp: iso(150), payload: { ok: true } },
            { type: failed ? 'run_failed' : 'run_completed', timestamp: iso(200), payload: {} },
          ],
        }),
      );
    }
    await Promise.all(batch);
  }
  await hub.ctx.ingestion.drain();
  await hub.ctx.enrichment.catchUp();
}

async function p95(url: string, n = 200) {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    const r = await hub.app.inject({ url, headers: { authorization: `Bearer ${KEY}` } });
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (r.statusCode !== 200) throw new Error(`${url}: ${r.statusCode} ${r.body}`);
  }
  times.sort((a, b) => a - b);
  return Math.round(times[Math.floor(n * 0.95)]! * 100) / 100;
}

async function measure() {
  const from = encodeURIComponent(new Date(Date.now() - DAYS * 86_400_000).toISOString());
  await p95(`/v1/stats/overview?from=${from}`, 20); // warm-up
  return {
    overview: await p95(`/v1/stats/overview?from=${from}`),
    agent: await p95(`/v1/stats/agents/Agent-3?from=${from}&bucket=day`),
    costs_agent: await p95(`/v1/costs?group_by=agent&from=${from}`),
    costs_team: await p95(`/v1/costs?group_by=team&from=${from}`),
    costs_model: await p95(`/v1/costs?group_by=model&from=${from}`),
    costs_day: await p95(`/v1/costs?group_by=day&from=${from}`),
    budgets: await p95('/v1/budgets'),
  };
}

/** Budgets count the load while it is enriched, like in production: an org, a team and an agent budget. */
async function createBudgets() {
  const call = async (method: string, url: string, body: unknown) => {
    const r = await hub.app.inject({
      method: method as 'POST',
      url,
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      payload: JSON.stringify(body),
    });
    if (r.statusCode >= 300) throw new Error(`${url}: ${r.statusCode} ${r.body}`);
    return JSON.parse(r.body);
  };
  const team = await call('POST', '/v1/teams', { name: 'Bench team' });
  const agent = await call('POST', '/v1/agents', { name: 'Agent-3', environment: 'prod', team_id: team.id });
  await call('POST', '/v1/budgets', { scope: 'org', amount_usd: 1_000_000, period: 'month', thresholds: [50, 80] });
  await call('POST', '/v1/budgets', { scope: 'team', scope_id: team.id, amount_usd: 100_000, period: 'week' });
  await call('POST', '/v1/budgets', { scope: 'agent', scope_id: agent.id, amount_usd: 10_000, period: 'day' });
}

/** One alert rule per signal, half org-wide and half on one agent: what a pass of the job evaluates. */
async function createAlerts() {
  const signals: [string, number, number][] = [
    ['failure_rate', 0.5, 60],
    ['failed_runs', 1000, 60],
    ['latency_p95_ms', 60_000, 60],
    ['cost_usd', 1_000_000, 24 * 60],
    ['cost_spike', 50, 60],
    ['blocked_actions', 10, 30],
    ['approvals_waiting', 1, 30],
    ['agent_silent', 5, 24 * 60],
  ];
  for (const [i, [signal, threshold, window]] of signals.entries()) {
    const r = await hub.app.inject({
      method: 'POST',
      url: '/v1/alerts',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      payload: JSON.stringify({
        name: `Bench ${signal}`,
        scope: i % 2 ? { type: 'agent', value: 'Agent-3' } : { type: 'org' },
        signal,
        threshold,
        window_minutes: window,
        channels: [{ type: 'in_app' }],
      }),
    });
    if (r.statusCode !== 201) throw new Error(`alert ${signal}: ${r.statusCode} ${r.body}`);
  }
}

/** p95 of one evaluation pass over every rule, as the `alerts.evaluate` job runs it. */
async function alertPassP95(n = 50) {
  await hub.ctx.alertEvaluator.runPass(); // first pass: any transitions and their notices happen here
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await hub.ctx.alertEvaluator.runPass();
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  times.sort((a, b) => a - b);
  return Math.round(times[Math.floor(n * 0.95)]! * 100) / 100;
}

const t0 = Date.now();
await createBudgets();
await createAlerts();
await loadTo(SMALL);
const small = { ...(await measure()), alerts: await alertPassP95() };
const loadSmallS = (Date.now() - t0) / 1000;
await loadTo(LARGE);
const large = { ...(await measure()), alerts: await alertPassP95() };
const rollupRows = await hub.ctx.db.db
  .selectFrom('rollups_hourly')
  .select((eb) => eb.fn.countAll().as('n'))
  .executeTakeFirst();
console.log(
  JSON.stringify({
    bench: 'dashboard',
    events_small: SMALL,
    events_large: LARGE,
    overview_p95_ms: large.overview,
    agent_stats_p95_ms: large.agent,
    overview_p95_ms_small: small.overview,
    agent_stats_p95_ms_small: small.agent,
    growth_1m_vs_100k: Math.round(Math.max(large.overview / small.overview, large.agent / small.agent) * 100) / 100,
    costs_agent_p95_ms: large.costs_agent,
    costs_team_p95_ms: large.costs_team,
    costs_model_p95_ms: large.costs_model,
    costs_day_p95_ms: large.costs_day,
    budgets_p95_ms: large.budgets,
    costs_growth_1m_vs_100k:
      Math.round(
        Math.max(
          large.costs_agent / small.costs_agent,
          large.costs_team / small.costs_team,
          large.costs_model / small.costs_model,
          large.costs_day / small.costs_day,
          large.budgets / small.budgets,
        ) * 100,
      ) / 100,
    alert_pass_p95_ms: large.alerts,
    alert_pass_p95_ms_small: small.alerts,
    alert_growth_1m_vs_100k: Math.round((large.alerts / small.alerts) * 100) / 100,
    rollup_rows: Number(rollupRows?.n ?? 0),
    load_s: Math.round((Date.now() - t0) / 1000),
    load_small_s: Math.round(loadSmallS),
  }),
);
await hub.close();
process.exit(0);
