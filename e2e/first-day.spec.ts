/**
 * A founder's first day with the console, once on a laptop (1440×900) and once on a phone (390×844):
 * first-run sign-up, connecting an agent (a key with the scopes it needs), the first run arriving, its
 * replay, a refund held for approval and approved from its sentence, the kill switch on and off, a
 * budget, costs, alert notifications, and the runs list opening a run by click and by keyboard. Each step
 * asserts the words a person sees, saves a screenshot (test-results/screenshots/first-day-*), and runs
 * axe-core: no serious or critical accessibility violation on any page.
 *
 * Each viewport gets its own hub (fresh SQLite directory, no users), so the first-run page is the
 * founder's sign-up, and the file does not depend on the order of the spec files.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type APIRequestContext, expect, request as playwrightRequest, test } from '@playwright/test';
import { accessible, root, startHub } from './hub';

const shots = join(root, 'test-results', 'screenshots');
mkdirSync(shots, { recursive: true });

const FOUNDER = { name: 'Fiona Founder', email: 'fiona@acme.test', password: 'fiona-founder-password' };
const VIEWPORTS = [
  { name: 'laptop', width: 1440, height: 900 },
  { name: 'phone', width: 390, height: 844 },
] as const;

test.describe.configure({ mode: 'serial' });

for (const vp of VIEWPORTS) {
  test(`a founder's first day on a ${vp.name} (${vp.width}×${vp.height})`, async ({ browser }) => {
    test.setTimeout(300_000);
    const hub = await startHub('first-day');
    const context = await browser.newContext({ baseURL: hub.base, viewport: { width: vp.width, height: vp.height } });
    const page = await context.newPage();
    let agentApi: APIRequestContext | undefined;
    const shot = (name: string) =>
      page.screenshot({ path: join(shots, `first-day-${vp.name}-${name}.png`), fullPage: true, timeout: 45_000 });
    const phone = vp.width < 768;
    /** Opens a page from the navigation: on a phone, through the drawer. */
    const go = async (label: string) => {
      if (phone) await page.getByRole('button', { name: 'Open navigation' }).click();
      await page
        .getByRole('navigation', { name: 'Main navigation' })
        .getByRole('link', { name: new RegExp(`^${label}( |$)`) })
        .click();
    };

    try {
      await test.step('sign up: the first-run page makes the founder and the organization', async () => {
        await page.goto('/');
        await expect(page).toHaveURL(/\/setup$/);
        await expect(page.getByRole('heading', { name: 'Welcome to AgentOps Hub' })).toBeVisible();
        await accessible(page, 'first run');
        await shot('01-sign-up');
        await page.getByLabel('Your name').fill(FOUNDER.name);
        await page.getByLabel('Email').fill(FOUNDER.email);
        await page.getByRole('textbox', { name: 'Password', exact: true }).fill(FOUNDER.password);
        await page.getByLabel('Organization name').fill('Acme Support');
        await page.getByRole('button', { name: 'Create owner account' }).click();
        await expect(page).toHaveURL(/\/onboarding$/);
      });

      let key = '';
      await test.step('connect an agent: a key whose scopes are said next to it', async () => {
        await expect(page.getByRole('heading', { name: 'Connect your first agent' })).toBeVisible();
        await page.getByLabel('Agent name').fill('SupportBot');
        await page.getByLabel(/Also let it read runs/).check();
        await page.getByRole('button', { name: 'Create ingest key' }).click();
        key = ((await page.getByTestId('ingest-key').textContent()) ?? '').trim();
        expect(key).toMatch(/^ahk_/);
        await expect(page.getByTestId('key-scopes')).toContainText('Scopes: ingest + read');
        await expect(page.getByText('Waiting for the first run')).toBeVisible();
        await accessible(page, 'onboarding');
        await shot('02-connect-agent');
        agentApi = await playwrightRequest.newContext({
          baseURL: hub.base,
          extraHTTPHeaders: { authorization: `Bearer ${key}` },
        });
      });

      const post = async (path: string, body: unknown) => {
        const res = await agentApi!.post(path, { data: body });
        const json = await res.json();
        expect(res.ok(), `${path}: ${JSON.stringify(json)}`).toBeTruthy();
        return json;
      };

      await test.step('first run: it arrives while the page listens', async () => {
        const t = Date.now() - 20_000;
        const at = (ms: number) => new Date(t + ms).toISOString();
        await post('/v1/ingest/run', {
          run_id: 'run_first_day',
          agent: 'SupportBot',
          status: 'completed',
          started_at: at(0),
          ended_at: at(5000),
          input: { ticket: 'My parcel arrived broken, order A-1001' },
          output: 'Refund issued: $250.00.',
          events: [
            {
              type: 'llm_call',
              timestamp: at(300),
              payload: { model: 'gpt-4o-mini', input_tokens: 420, output_tokens: 96, duration_ms: 1100 },
            },
            {
              // What the SDK's guard() records: the action nested under `action`.
              type: 'external_action',
              timestamp: at(2500),
              duration_ms: 800,
              payload: {
                status: 'done',
                action: { type: 'issue_refund', order_id: 'A-1001', amount: 250, currency: 'usd' },
              },
            },
          ],
        });
        await expect(page.getByText('Your first run arrived')).toBeVisible({ timeout: 20_000 });
        await expect(page.getByTestId('first-run-status')).toContainText('SupportBot');
        await shot('03-first-run');
        // The key may read runs back (the read scope was chosen): what the README's curl check does.
        const runs = await agentApi!.get('/v1/runs');
        expect(runs.ok()).toBeTruthy();
        expect((await runs.json()).data[0].id).toBe('run_first_day');
      });

      await test.step('replay: every step in words, money in cents and sub-cents for one call', async () => {
        await page.getByRole('link', { name: 'Open its replay' }).click();
        await expect(page).toHaveURL(/\/runs\/run_first_day$/);
        await expect(page.getByRole('heading', { name: 'Run run_first_day' })).toBeVisible();
        await expect(page.getByText('External action · issue a refund of $250.00 on order A-1001')).toBeVisible();
        await expect(page.getByText('LLM call · gpt-4o-mini')).toBeVisible();
        await expect(page.getByText(/516 tokens · \$0\.000\d+/)).toBeVisible();
        await expect(page.getByText('[object Object]')).toHaveCount(0);
        await expect(page.getByText('Completed', { exact: true }).first()).toBeVisible();
        await accessible(page, 'replay');
        await shot('04-replay');
      });

      await test.step('approve: the request reads as a sentence, the raw action one click away', async () => {
        // The policy, made with the founder's session (the console's own API calls).
        const policy = await page.request.post(`${hub.base}/v1/policies`, {
          data: {
            name: 'Refunds over $100 need a person',
            status: 'active',
            rule: {
              when: {
                all: [
                  { field: 'action.type', op: 'eq', value: 'issue_refund' },
                  { field: 'action.amount', op: 'gt', value: 100 },
                ],
              },
              then: 'require_approval',
            },
          },
        });
        expect(policy.ok(), await policy.text()).toBeTruthy();
        const decision = await post('/v1/policy/evaluate', {
          agent: 'SupportBot',
          action: { type: 'issue_refund', amount: 250, currency: 'usd', order_id: 'A-1001', reason: 'damaged' },
          run_id: 'run_first_day',
        });
        expect(decision.decision).toBe('REQUIRE_APPROVAL');
        await go('Approvals');
        const sentence = 'SupportBot wants to issue a refund of $250.00 on order A-1001';
        await expect(page.getByTestId('approval-item')).toContainText(sentence);
        const detail = page.getByLabel('Approval details');
        await expect(detail.getByRole('heading', { name: sentence })).toBeVisible();
        await expect(detail.getByText('reason: damaged')).toBeVisible();
        await detail.getByRole('button', { name: 'Show the raw action (JSON)' }).click();
        await expect(detail.getByText(/"order_id": "A-1001"/)).toBeVisible();
        await accessible(page, 'approvals');
        await shot('05-approval');
        await detail.getByLabel('Comment (optional)').fill('Photo of the damage attached');
        await detail.getByRole('button', { name: 'Approve' }).click();
        await expect(page.getByText('Request approved')).toBeVisible();
        await expect(page.getByText('Nothing waits for you')).toBeVisible();
      });

      await test.step('kill switch on: the agents read paused, and off again', async () => {
        await page.getByRole('button', { name: 'Stop all agents' }).click();
        const dialog = page.getByRole('dialog');
        await dialog.getByLabel('Reason').fill('Refund spike, checking');
        await dialog.getByRole('button', { name: 'Engage kill switch' }).click();
        await expect(page.getByText('All agents stopped').filter({ visible: true }).first()).toBeVisible();
        const blocked = await post('/v1/policy/evaluate', { agent: 'SupportBot', action: { type: 'issue_refund' } });
        expect(blocked.decision).toBe('BLOCK');
        await go('Agents');
        await expect(page.getByText('paused · kill switch')).toBeVisible();
        if (phone) await expect(page.getByTestId('kill-switch-banner')).toContainText('Refund spike, checking');
        else await expect(page.getByTestId('kill-switch-state')).toHaveText('All agents stopped');
        await accessible(page, 'agents with the kill switch on');
        await shot('06-kill-switch-on');
        await page.getByRole('button', { name: 'Release agents' }).click();
        await page.getByRole('dialog').getByLabel('Reason').fill('All clear');
        await page.getByRole('dialog').getByRole('button', { name: 'Release kill switch' }).click();
        await expect(page.getByText('Kill switch released')).toBeVisible();
        await expect(page.getByText('paused · kill switch')).toHaveCount(0);
        await expect(page.getByText('active', { exact: true }).first()).toBeVisible();
      });

      await test.step('budget: spend against it in cents', async () => {
        const budget = await page.request.post(`${hub.base}/v1/budgets`, {
          data: { name: 'Support spend', scope: 'org', amount_usd: 50, period: 'month', thresholds: [50, 80, 100] },
        });
        expect(budget.ok(), await budget.text()).toBeTruthy();
        await go('Budgets');
        await expect(page.getByRole('heading', { name: 'Budgets' })).toBeVisible();
        await expect(page.getByText(/of \$50\.00/).first()).toBeVisible();
        await accessible(page, 'budgets');
        await shot('07-budget');
      });

      await test.step('costs: the total in cents, by model with a legend', async () => {
        await go('Costs');
        await expect(page.getByTestId('cost-total')).toHaveText(/^(\$\d+\.\d\d|<\$0\.01)$/);
        await expect(page.getByRole('list', { name: 'Spend by model' })).toContainText('gpt-4o-mini');
        await accessible(page, 'costs');
        await shot('08-costs');
      });

      await test.step('alerts: a rule in words, its state, and a test notice in its history', async () => {
        await go('Alerts');
        await expect(page.getByText('No alert rule yet')).toBeVisible();
        await page.getByRole('button', { name: 'New alert' }).first().click();
        const dialog = page.getByRole('dialog');
        await dialog.getByLabel('Name').fill('Support failing');
        await dialog.getByRole('button', { name: 'Create alert' }).click();
        await expect(page.getByText('Alert Support failing created.')).toBeVisible();
        const rule = phone
          ? page.getByTestId('data-card').first()
          : page.getByRole('row', { name: /Alert Support failing/ });
        await expect(rule).toContainText('Failure rate ≥ 20% over 1 h');
        await rule.click();
        const history = page.getByLabel('History of Support failing', { exact: true });
        await expect(history).toContainText('It has not fired yet.');
        await history.getByRole('button', { name: 'Send a test notice' }).click();
        await expect(history).toContainText('test');
        await accessible(page, 'alerts');
        await shot('09-alerts');
        await go('Notifications');
        await expect(page.getByText('An alert rule fired or resolved')).toBeVisible();
      });

      await test.step('runs: status, agent, time and cost on every row; a row opens by click and by keyboard', async () => {
        await go('Runs');
        if (phone) {
          const card = page.getByTestId('data-card').first();
          await expect(card).toContainText('SupportBot');
          await expect(card).toContainText('Completed');
          await expect(card).toContainText('Started');
          await expect(card).toContainText('Cost');
        } else {
          const table = page.getByRole('table', { name: 'Runs' });
          await expect(table.getByRole('columnheader', { name: 'Status' })).toBeVisible();
          await expect(table.getByRole('row', { name: /Run run_first_day of SupportBot, completed/ })).toBeVisible();
        }
        await accessible(page, 'runs');
        await shot('10-runs');
        // Keyboard: focus the row (or card) and press Enter.
        const row = phone
          ? page.getByTestId('data-card').first()
          : page.getByRole('row', { name: /Run run_first_day/ });
        await row.focus();
        await page.keyboard.press('Enter');
        await expect(page).toHaveURL(/\/runs\/run_first_day$/);
        await page.goBack();
        // Click anywhere on the row, not only on its link.
        await (phone
          ? page.getByTestId('data-card').first().getByText('SupportBot')
          : page.getByRole('cell', { name: 'SupportBot' })
        ).click();
        await expect(page).toHaveURL(/\/runs\/run_first_day$/);
      });

      await test.step('home: outcomes with a legend, the account menu in reach', async () => {
        await page.goto('/');
        await expect(page.getByRole('list', { name: 'Runs by outcome' })).toContainText('Completed');
        await expect(page.getByText('Success rate')).toBeVisible();
        await expect(page.getByText('100%').first()).toBeVisible();
        await accessible(page, 'home');
        await shot('11-home');
        await page.getByRole('button', { name: 'Account menu' }).click();
        await expect(page.getByRole('menuitem', { name: 'Sign out' })).toBeVisible();
        await shot('12-account-menu');
        await page.getByRole('menuitem', { name: 'Sign out' }).click();
        await expect(page).toHaveURL(/\/sign-in/);
        await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
        await accessible(page, 'sign-in');
      });
    } finally {
      await agentApi?.dispose();
      await context.close();
      hub.stop();
    }
  });
}
