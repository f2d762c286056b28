/**
 * A founder on a smaller plan: the hub here sells `starter` (HUB_DEFAULT_PLAN, the way a hosted
 * deployment sets it) with 10 events a month (HUB_PLAN_LIMITS), so the first org is on it. Budgets,
 * approvals, reports and policy simulation are shown locked with the hub's own sentence (the feature and
 * the plan that has it), not hidden and not as an error; the plan page shows the month's events at 90%
 * ("80% used"), then at the limit once one more run arrives, with what the plan includes and lacks; the
 * agent page shows its policy adherence with the counts behind it. Each page is checked by axe-core (no
 * serious or critical violation) and saved as a screenshot (test-results/screenshots/plans-*).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type APIRequestContext, expect, request as playwrightRequest, test } from '@playwright/test';
import { accessible, root, startHub } from './hub';

const shots = join(root, 'test-results', 'screenshots');
mkdirSync(shots, { recursive: true });

const FOUNDER = { name: 'Sam Starter', email: 'sam@small.test', password: 'sam-starter-password' };
const EVENTS_PER_MONTH = 10;

/** The hub's 402 sentence for a feature of the growth plan, as the starter org hears it. */
const lockedSentence = (feature: string) =>
  `${feature} is not included in your starter plan; it comes with the growth plan. Upgrade to use it.`;

test('a founder on the starter plan sees locked features, usage against the limit and adherence', async ({
  browser,
}) => {
  test.setTimeout(300_000);
  const hub = await startHub('plans', {
    HUB_DEFAULT_PLAN: 'starter',
    HUB_PLAN_LIMITS: JSON.stringify({ starter: { events_per_month: EVENTS_PER_MONTH } }),
  });
  const context = await browser.newContext({ baseURL: hub.base });
  const page = await context.newPage();
  let agentApi: APIRequestContext | undefined;
  const shot = (name: string) =>
    page.screenshot({ path: join(shots, `plans-${name}.png`), fullPage: true, timeout: 45_000 });
  const month = new Date().toLocaleDateString('en-US', { month: 'long', year: 'numeric', timeZone: 'UTC' });

  try {
    await test.step('sign up: the first org starts on the starter plan', async () => {
      await page.goto('/');
      await expect(page).toHaveURL(/\/setup$/);
      await page.getByLabel('Your name').fill(FOUNDER.name);
      await page.getByLabel('Email').fill(FOUNDER.email);
      await page.getByRole('textbox', { name: 'Password', exact: true }).fill(FOUNDER.password);
      await page.getByLabel('Organization name').fill('Small Shop');
      await page.getByRole('button', { name: 'Create owner account' }).click();
      await expect(page).toHaveURL(/\/onboarding$/);
      const key = await page.request.post(`${hub.base}/v1/api-keys`, {
        data: { name: 'support bot', scopes: ['ingest'] },
      });
      expect(key.ok(), await key.text()).toBeTruthy();
      agentApi = await playwrightRequest.newContext({
        baseURL: hub.base,
        extraHTTPHeaders: { authorization: `Bearer ${(await key.json()).key}` },
      });
    });

    const post = async (path: string, body: unknown) => {
      const res = await agentApi!.post(path, { data: body });
      const json = await res.json();
      expect(res.ok(), `${path}: ${JSON.stringify(json)}`).toBeTruthy();
      return json;
    };
    /** `n` finished runs of SupportBot (each run is one billable event), then waits for the month's count. */
    const runs = async (from: number, n: number) => {
      const at = new Date(Date.now() - 60_000).toISOString();
      for (let i = from; i < from + n; i++)
        await post('/v1/ingest/run', {
          run_id: `run_small_${i}`,
          agent: 'SupportBot',
          status: 'completed',
          started_at: at,
          ended_at: at,
        });
      await expect
        .poll(async () => (await (await page.request.get(`${hub.base}/v1/org/plan`)).json()).usage.events, {
          timeout: 30_000,
        })
        .toBe(from + n);
    };

    let policyId = '';
    await test.step('the agent works: nine runs, two refunds checked by a policy (one blocked)', async () => {
      await runs(0, 9);
      const policy = await page.request.post(`${hub.base}/v1/policies`, {
        data: {
          name: 'Refunds over $100 are refused',
          status: 'active',
          rule: {
            when: {
              all: [
                { field: 'action.type', op: 'eq', value: 'issue_refund' },
                { field: 'action.amount', op: 'gt', value: 100 },
              ],
            },
            then: 'block',
          },
        },
      });
      expect(policy.ok(), await policy.text()).toBeTruthy();
      policyId = (await policy.json()).id;
      const small = await post('/v1/policy/evaluate', {
        agent: 'SupportBot',
        run_id: 'run_small_8',
        action: { type: 'issue_refund', amount: 40, currency: 'usd' },
      });
      expect(small.decision).toBe('ALLOW');
      const big = await post('/v1/policy/evaluate', {
        agent: 'SupportBot',
        run_id: 'run_small_8',
        action: { type: 'issue_refund', amount: 400, currency: 'usd' },
      });
      expect(big.decision).toBe('BLOCK');
    });

    for (const [path, title, feature, name] of [
      ['/budgets', 'Budgets', 'Budgets', 'budgets'],
      ['/approvals', 'Approvals', 'Human approvals', 'approvals'],
      ['/reports', 'Reports', 'Scheduled reports', 'reports'],
    ] as const)
      await test.step(`${name}: the page stays, locked with the hub's sentence`, async () => {
        await page.goto(path);
        await expect(page.getByRole('heading', { name: title, level: 1 })).toBeVisible();
        const panel = page.getByRole('region', { name: `${title} is locked` });
        await expect(panel).toContainText('Not included in your plan');
        await expect(panel.getByText(lockedSentence(feature))).toBeVisible();
        await expect(page.getByText('Something went wrong')).toHaveCount(0);
        await accessible(page, name);
        await shot(`01-${name}-locked`);
      });

    await test.step('policy simulation: the first try answers with the locked sentence', async () => {
      await page.goto(`/policies/${policyId}`);
      await page.getByRole('button', { name: 'Simulate', exact: true }).click();
      const panel = page.getByRole('region', { name: 'Policy simulation is locked' });
      await expect(panel.getByText(lockedSentence('Policy simulation'))).toBeVisible();
      await expect(page.getByRole('button', { name: 'Simulate', exact: true })).toBeDisabled();
      await accessible(page, 'policy editor with simulation locked');
      await shot('02-simulation-locked');
    });

    await test.step('home: the budgets card shows the same locked sentence', async () => {
      await page.goto('/');
      const card = page.getByRole('region', { name: 'Budgets is locked' });
      await expect(card.getByText(lockedSentence('Budgets'))).toBeVisible();
      await accessible(page, 'home with budgets locked');
    });

    await test.step('the locked panel leads to the plan page: usage at 90%, what is in and out', async () => {
      await page.goto('/budgets');
      await page.getByRole('link', { name: 'See what your plan includes' }).click();
      await expect(page).toHaveURL(/\/settings\/plan$/);
      await expect(page.getByTestId('plan-name')).toHaveText('starter');
      const usage = page.getByTestId('plan-usage');
      await expect(usage).toHaveAttribute('data-level', 'warning');
      await expect(usage).toContainText('80% used');
      await expect(usage).toContainText(`9 of 10 events in ${month} (90%)`);
      await expect(usage).toContainText('owners and admins were told');
      const limits = page.getByTestId('plan-limits');
      await expect(limits).toContainText('Agents1 of 5');
      await expect(limits).toContainText('Membersup to 3');
      await expect(limits).toContainText('Retention14 days');
      await expect(page.getByRole('list', { name: 'Included in your plan' })).toHaveText('Policies');
      const missing = page.getByRole('list', { name: 'Not in your plan' });
      await expect(missing).toContainText('Budgets (comes with the growth plan)');
      await expect(missing).toContainText('Report insights (comes with the scale plan)');
      await expect(page.getByRole('table', { name: 'Compare plans' })).toContainText('starter (yours)');
      await accessible(page, 'plan');
      await shot('03-plan-80');
    });

    await test.step('one more run reaches the limit: nothing is dropped, the page says so', async () => {
      await runs(9, 1);
      await page.reload();
      const usage = page.getByTestId('plan-usage');
      await expect(usage).toHaveAttribute('data-level', 'over');
      await expect(usage).toContainText('Limit reached');
      await expect(usage).toContainText(`10 of 10 events in ${month} (100%)`);
      await expect(usage).toContainText('Nothing is dropped');
      await accessible(page, 'plan at the limit');
      await shot('04-plan-100');
    });

    await test.step('the agent page: adherence with the counts behind it, budgets locked in its card', async () => {
      await page.goto('/agents');
      await page.getByRole('link', { name: 'SupportBot' }).first().click();
      await expect(page.getByRole('heading', { name: 'SupportBot', level: 1 })).toBeVisible();
      await expect(page.getByTestId('adherence-score')).toHaveText('50%');
      await expect(page.getByTestId('adherence-counts')).toHaveText(
        '1 of 2 checked actions went through cleanly · 1 blocked',
      );
      await expect(page.getByText(/without a block, a rejected or expired approval/)).toBeVisible();
      // The run that asked carries its own score; the others asked nothing.
      await expect(page.getByRole('row', { name: /run_small_8/ })).toContainText('50% · 2 checked');
      await expect(page.getByRole('row', { name: /run_small_7/ })).not.toContainText('checked');
      await expect(
        page.getByRole('region', { name: 'Budgets is locked' }).getByText(lockedSentence('Budgets')),
      ).toBeVisible();
      await accessible(page, 'agent');
      await shot('05-agent-adherence');
    });
  } finally {
    await agentApi?.dispose();
    await context.close();
    hub.stop();
  }
});
