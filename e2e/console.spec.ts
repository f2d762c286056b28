/**
 * The console's main journeys, in a real browser against a real hub:
 * first-run owner → onboarding key → a run ingested over HTTP appears live → its replay timeline →
 * a policy made with the sentence builder → an evaluate that needs approval → approved in the inbox with
 * a comment → Big Red Button → evaluate answers BLOCK → released; then a budget, an API key, 2FA
 * enrolment and sign-in with a code, and an invitation accepted by a viewer who sees no approve button.
 * Every main page is screenshotted into test-results/.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, type Page, test } from '@playwright/test';
import { generate } from 'otplib';

const shots = join(dirname(fileURLToPath(import.meta.url)), '..', 'test-results', 'screenshots');
mkdirSync(shots, { recursive: true });
const shot = (page: Page, name: string) =>
  page.screenshot({ path: join(shots, `${name}.png`), fullPage: true, timeout: 45_000 });

const OWNER = { name: 'Olivia Owner', email: 'owner@e2e.test', password: 'correct-horse-battery' };
const VIEWER = { name: 'Victor Viewer', email: 'viewer@e2e.test', password: 'viewer-password-123' };

test.describe.configure({ mode: 'serial' });

/** A 6-box PIN input: type into its first box, focus moves along. */
async function typeCode(page: Page, label: string, code: string) {
  await page.getByRole('group', { name: label }).locator('input').first().click();
  await page.keyboard.type(code, { delay: 30 });
}

test('the console, end to end', async ({ page, browser, baseURL, request }) => {
  // One long journey; on a loaded 2-core machine it needs more than the default budget.
  test.setTimeout(300_000);
  let ingestKey = '';
  const hub = async (path: string, body: unknown, key = ingestKey) => {
    const res = await request.post(`${baseURL}${path}`, { data: body, headers: { authorization: `Bearer ${key}` } });
    const json = await res.json();
    expect(res.ok(), `${path}: ${JSON.stringify(json)}`).toBeTruthy();
    return json;
  };

  await test.step('first run: the owner account and the organization', async () => {
    await page.goto('/');
    await expect(page).toHaveURL(/\/setup$/);
    await expect(page.getByRole('heading', { name: 'Welcome to AgentOps Hub' })).toBeVisible();
    await shot(page, '01-first-run');
    await page.getByLabel('Your name').fill(OWNER.name);
    await page.getByLabel('Email').fill(OWNER.email);
    await page.getByRole('textbox', { name: 'Password', exact: true }).fill(OWNER.password);
    await page.getByLabel('Organization name').fill('Acme Robotics');
    await page.getByRole('button', { name: 'Create owner account' }).click();
    await expect(page).toHaveURL(/\/onboarding$/);
  });

  await test.step('onboarding: an ingest key, then a run over HTTP turns the page green', async () => {
    await expect(page.getByRole('heading', { name: 'Connect your first agent' })).toBeVisible();
    await page.getByLabel('Agent name').fill('support-bot');
    await page.getByRole('button', { name: 'Create ingest key' }).click();
    ingestKey = ((await page.getByTestId('ingest-key').textContent()) ?? '').trim();
    expect(ingestKey).toMatch(/^ahk_/);
    await expect(page.getByText('Waiting for the first run')).toBeVisible();
    await shot(page, '02-onboarding-key');

    const t = Date.now() - 10_000;
    const at = (ms: number) => new Date(t + ms).toISOString();
    await hub('/v1/ingest/run', {
      run_id: 'run_e2e_first',
      agent: 'support-bot',
      status: 'completed',
      started_at: at(0),
      ended_at: at(4000),
      input: { ticket: 'Where is my order #42?' },
      output: 'It ships tomorrow.',
      events: [
        {
          type: 'llm_call',
          timestamp: at(200),
          payload: { model: 'gpt-4o-mini', input_tokens: 300, output_tokens: 80, duration_ms: 900 },
        },
        {
          type: 'tool_called',
          timestamp: at(1200),
          payload: { tool: 'lookup_order', input: { order_id: 42 }, duration_ms: 400 },
        },
        { type: 'tool_result', timestamp: at(1600), payload: { tool: 'lookup_order', output: { status: 'packed' } } },
        {
          type: 'llm_call',
          timestamp: at(2000),
          payload: { model: 'gpt-4o', input_tokens: 500, output_tokens: 120, duration_ms: 1500 },
        },
      ],
    });
    await expect(page.getByTestId('first-run-status')).toContainText('Your first run arrived', { timeout: 20_000 });
    await shot(page, '03-onboarding-first-run');
  });

  await test.step('the run replay: timeline, expandable steps, keyboard step-through', async () => {
    await page.getByRole('link', { name: 'Open its replay' }).click();
    await expect(page).toHaveURL(/\/runs\/run_e2e_first$/);
    const steps = page.getByTestId('timeline-step');
    await expect(steps).toHaveCount(4);
    await expect(steps.first()).toContainText('LLM call · gpt-4o-mini');
    await expect(steps.nth(1)).toContainText('Tool call · lookup_order');
    await steps.first().getByRole('button').focus();
    await page.keyboard.press('ArrowDown');
    await expect(steps.nth(1).getByRole('button')).toBeFocused();
    await page.keyboard.press('Enter');
    await expect(steps.nth(1).getByRole('button')).toHaveAttribute('aria-expanded', 'true');
    await expect(steps.nth(1)).toContainText('"order_id": 42');
    await shot(page, '04-run-replay');
  });

  await test.step('the runs explorer', async () => {
    await page.getByRole('link', { name: 'Runs', exact: true }).click();
    await expect(page.getByRole('table', { name: 'Runs' })).toContainText('run_e2e_first');
    await page.getByLabel('Search').fill('order #42');
    await expect(page).toHaveURL(/q=order/);
    await expect(page.getByRole('table', { name: 'Runs' })).toContainText('run_e2e_first');
    await shot(page, '05-runs');
  });

  let policyUrl = '';
  await test.step('a policy made with the sentence builder, simulated, then activated', async () => {
    await page.getByRole('link', { name: 'Policies', exact: true }).click();
    await expect(page.getByText('No policy yet')).toBeVisible();
    await shot(page, '06-policies-empty');
    await page.getByRole('link', { name: 'New policy' }).first().click();
    await page.getByLabel('Name').fill('Refunds over $100 need a person');
    await page.getByRole('combobox', { name: 'Agent' }).fill('support-bot');
    await page.getByRole('textbox', { name: 'Action' }).fill('refund');
    await page.getByRole('textbox', { name: 'Condition 1 value' }).fill('100');
    // The code face follows the sentence.
    await expect(page.getByTestId('rule-editor')).toContainText('refund');
    await expect(page.getByTestId('rule-editor')).toContainText('value: 100');
    await expect(page.getByTestId('validation')).toContainText('The rule is valid');
    await page.getByRole('button', { name: 'Simulate' }).click();
    await expect(page.getByTestId('simulation')).toContainText('Actions checked');
    await shot(page, '07-policy-editor');
    await page.getByRole('button', { name: 'Save and activate' }).click();
    await expect(page).toHaveURL(/\/policies\/pol_/);
    await expect(page.getByText('active', { exact: true }).first()).toBeVisible();
    policyUrl = page.url();
    await expect(page.getByRole('table', { name: 'Policy versions' })).toContainText('v1');
  });

  let approvalId = '';
  await test.step('an evaluate that needs approval, approved in the inbox with a comment', async () => {
    const decision = await hub('/v1/policy/evaluate', {
      agent: 'support-bot',
      action: { type: 'refund', amount: 250, order_id: 42 },
      run_id: 'run_e2e_first',
    });
    expect(decision.decision).toBe('REQUIRE_APPROVAL');
    approvalId = decision.approval_id;
    // The count in the navigation updates by itself.
    await expect(page.getByTestId('pending-count')).toHaveText('1', { timeout: 20_000 });
    await page.getByRole('link', { name: /Approvals/ }).click();
    await expect(page.getByTestId('approval-item')).toContainText(
      'support-bot wants to issue a refund of $250.00 on order 42',
    );
    await expect(page.getByLabel('Approval details')).toContainText('Refunds over $100 need a person');
    await shot(page, '08-approvals-pending');
    await page.getByLabel('Comment (optional)').fill('Customer is a long-time client, fine.');
    await page.getByRole('button', { name: 'Approve' }).click();
    await expect(page.getByText('Request approved')).toBeVisible();
    await expect(page.getByText('Nothing waits for you')).toBeVisible();
    const res = await request.get(`${baseURL}/v1/approvals/${approvalId}`, {
      headers: { authorization: `Bearer ${ingestKey}` },
    });
    const approval = await res.json();
    expect(approval.status).toBe('approved');
    expect(approval.comment).toBe('Customer is a long-time client, fine.');
    await page.getByRole('radiogroup', { name: 'Approval status' }).getByText('approved', { exact: true }).click();
    await expect(page.getByLabel('Approval details')).toContainText('long-time client');
    await shot(page, '09-approvals-approved');
  });

  await test.step('the replay shows the decision and the approval', async () => {
    await page.goto('/runs/run_e2e_first');
    await expect(page.getByTestId('timeline')).toContainText('Policy decision · REQUIRE_APPROVAL');
    await expect(page.getByTestId('timeline')).toContainText('Approval · approved');
  });

  await test.step('the Big Red Button stops every agent, then releases them', async () => {
    await page.getByRole('button', { name: 'Stop all agents' }).click();
    await page.getByRole('dialog').getByLabel('Reason').fill('Suspicious refunds, investigating');
    await shot(page, '10-big-red-button');
    await page.getByRole('button', { name: 'Engage kill switch' }).click();
    await expect(page.getByTestId('kill-switch-state')).toHaveText('All agents stopped');
    const blocked = await hub('/v1/policy/evaluate', { agent: 'support-bot', action: { type: 'refund', amount: 20 } });
    expect(blocked.decision).toBe('BLOCK');
    await page.getByRole('link', { name: 'Emergency', exact: true }).click();
    await expect(page.getByText(/Engaged .*Suspicious refunds, investigating/)).toBeVisible();
    await shot(page, '11-emergency-engaged');
    await page.getByRole('button', { name: 'Release agents' }).first().click();
    await page.getByRole('dialog').getByLabel('Reason').fill('All clear');
    await page.getByRole('button', { name: 'Release kill switch' }).click();
    await expect(page.getByTestId('kill-switch-state')).toHaveText('Agents running');
    const allowed = await hub('/v1/policy/evaluate', { agent: 'support-bot', action: { type: 'refund', amount: 20 } });
    expect(allowed.decision).toBe('ALLOW');
    await page.getByRole('button', { name: 'Pause support-bot' }).click();
    await expect(page.getByRole('button', { name: 'Resume support-bot' })).toBeVisible();
    await page.getByRole('button', { name: 'Resume support-bot' }).click();
    await expect(page.getByRole('button', { name: 'Pause support-bot' })).toBeVisible();
  });

  await test.step('a budget with thresholds', async () => {
    await page.getByRole('link', { name: 'Budgets', exact: true }).click();
    await page.getByRole('button', { name: 'New budget' }).first().click();
    await page.getByLabel('Amount (USD)').fill('25');
    await page.getByRole('button', { name: 'Create budget' }).click();
    await expect(page.getByRole('table', { name: 'Budgets' })).toContainText('Whole organization');
    await expect(page.getByRole('table', { name: 'Budgets' })).toContainText('$25.00');
    await shot(page, '12-budgets');
  });

  await test.step('an API key with scopes, shown once', async () => {
    await page.getByRole('link', { name: 'API keys', exact: true }).click();
    await page.getByRole('button', { name: 'New API key' }).first().click();
    await page.getByLabel('Name').fill('reporting script');
    await page.getByRole('checkbox', { name: 'read' }).check();
    await page.getByRole('checkbox', { name: 'ingest' }).uncheck();
    await page.getByRole('button', { name: 'Create key' }).click();
    await expect(page.getByTestId('new-api-key')).toContainText('ahk_');
    await shot(page, '13-api-key-created');
    await page.getByRole('button', { name: 'Done' }).click();
    await expect(page.getByRole('table', { name: 'API keys' })).toContainText('reporting script');
  });

  await test.step('the home dashboard, in light and dark mode', async () => {
    await page.getByRole('link', { name: 'Home', exact: true }).click();
    await expect(page.getByText('Runs by outcome').first()).toBeVisible();
    await expect(page.getByText('Top 5 agents by activity')).toBeVisible();
    await shot(page, '14-home');
    await page.getByRole('button', { name: 'Switch to dark mode' }).click();
    await expect(page.locator('html')).toHaveAttribute('data-mantine-color-scheme', 'dark');
    await shot(page, '15-home-dark');
    await page.goto(policyUrl);
    await expect(page.getByRole('table', { name: 'Policy versions' })).toBeVisible();
    await shot(page, '16-policy-dark');
    await page.getByRole('button', { name: 'Switch to light mode' }).click();
  });

  let inviteLink = '';
  await test.step('an invitation with the viewer role', async () => {
    await page.getByRole('link', { name: 'Members', exact: true }).click();
    await page.getByRole('button', { name: 'Invite someone' }).click();
    await page.getByLabel('Email').fill(VIEWER.email);
    await page.getByRole('combobox', { name: 'Role' }).click();
    await page.getByRole('option', { name: /^Viewer/ }).click();
    await page.getByRole('button', { name: 'Send invitation' }).click();
    inviteLink = ((await page.getByTestId('invite-link').textContent()) ?? '').trim();
    expect(inviteLink).toContain('/invitations/accept?token=');
    await shot(page, '17-invitation');
    await page.getByRole('button', { name: 'Done' }).click();
    await expect(page.getByRole('table', { name: 'Pending invitations' })).toContainText(VIEWER.email);
  });

  await test.step('two-factor enrolment, sign out, sign in with a code', async () => {
    await page.getByRole('link', { name: 'Security', exact: true }).click();
    await page.getByRole('textbox', { name: 'Password', exact: true }).fill(OWNER.password);
    await page.getByRole('button', { name: 'Set up two-factor' }).click();
    await expect(page.getByRole('img', { name: 'QR code for your authenticator app' })).toBeVisible();
    await shot(page, '18-two-factor-enrolment');
    const secret = ((await page.getByTestId('totp-secret').textContent()) ?? '').trim();
    await typeCode(page, 'Code from the authenticator app', await generate({ secret }));
    await page.getByRole('button', { name: 'Turn on two-factor' }).click();
    await expect(page.getByText('Two-factor authentication is on.')).toBeVisible();

    await page.getByRole('button', { name: 'Account menu' }).click();
    await page.getByRole('menuitem', { name: 'Sign out' }).click();
    await expect(page).toHaveURL(/\/sign-in/);
    await shot(page, '19-sign-in');
    await page.getByLabel('Email').fill(OWNER.email);
    await page.getByRole('textbox', { name: 'Password', exact: true }).fill(OWNER.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page).toHaveURL(/\/two-factor/);
    await typeCode(page, 'Authentication code', await generate({ secret }));
    await page.getByRole('button', { name: 'Verify' }).click();
    await expect(page.getByRole('heading', { name: 'Home' })).toBeVisible();
  });

  await test.step('the viewer accepts the invitation and sees no approve button', async () => {
    const pending = await hub('/v1/policy/evaluate', {
      agent: 'support-bot',
      action: { type: 'refund', amount: 900 },
    });
    expect(pending.decision).toBe('REQUIRE_APPROVAL');

    const viewerContext = await browser.newContext();
    const viewer = await viewerContext.newPage();
    await viewer.goto(inviteLink);
    await expect(viewer.getByRole('heading', { name: 'You are invited' })).toBeVisible();
    await viewer.getByRole('link', { name: 'Create account' }).click();
    await viewer.getByLabel('Your name').fill(VIEWER.name);
    await viewer.getByLabel('Email').fill(VIEWER.email);
    await viewer.getByRole('textbox', { name: 'Password', exact: true }).fill(VIEWER.password);
    await viewer.getByRole('button', { name: 'Create account' }).click();
    await expect(viewer).toHaveURL(/\/invitations\/accept/);
    await viewer.getByRole('button', { name: 'Accept invitation' }).click();
    await expect(viewer.getByRole('heading', { name: 'Home' })).toBeVisible();
    await expect(viewer.getByRole('button', { name: 'Switch organization' })).toHaveText('Acme Robotics');
    // Viewers get no settings for keys, no Big Red Button.
    await expect(viewer.getByRole('link', { name: 'API keys', exact: true })).toHaveCount(0);
    await expect(viewer.getByRole('button', { name: 'Stop all agents' })).toHaveCount(0);
    await viewer.getByRole('link', { name: /Approvals/ }).click();
    await expect(viewer.getByTestId('approval-item')).toContainText('support-bot wants to issue a refund of $900.00');
    await expect(viewer.getByText('Your role can see requests but not decide them.')).toBeVisible();
    await expect(viewer.getByRole('button', { name: 'Approve' })).toHaveCount(0);
    await expect(viewer.getByRole('button', { name: 'Reject' })).toHaveCount(0);
    await shot(viewer, '20-viewer-approvals');
    await viewer.getByRole('link', { name: 'Policies', exact: true }).click();
    await expect(viewer.getByRole('link', { name: 'New policy' })).toHaveCount(0);
    await viewerContext.close();
  });
});
