/**
 * Every route of the console, in one place. Each page is its own chunk (`lazyRouteComponent`), so a
 * route only downloads what it shows. To add a page: write `pages/<area>/<Name>Page.tsx` exporting
 * `<Name>Page`, add a `createRoute` below under `appLayout` (signed-in pages) or `accessLayout`
 * (sign-in and friends), list it in `routeTree`, and add a nav entry in `components/nav.ts`.
 */

import type { Me } from '@agentops-hub/contracts';
import {
  createRootRoute,
  createRoute,
  createRouter,
  lazyRouteComponent,
  Outlet,
  redirect,
} from '@tanstack/react-router';
import { ApiError, api } from './api/client';
import { queryClient } from './api/queries';
import { NotFound, RouteError } from './components/states';
import { safeNext } from './lib/safe-next';

const rootRoute = createRootRoute({ component: Outlet, notFoundComponent: NotFound });

const page = (load: () => Promise<Record<string, unknown>>, name: string) =>
  lazyRouteComponent(load as () => Promise<Record<string, () => React.JSX.Element>>, name);

// Pages for people who are not signed in (or not in an org yet): centred card, no navigation.
const accessLayout = createRoute({
  getParentRoute: () => rootRoute,
  id: 'access',
  component: page(() => import('./components/AccessLayout'), 'AccessLayout'),
});
const access = <P extends string>(path: P, load: () => Promise<Record<string, unknown>>, name: string) =>
  createRoute({ getParentRoute: () => accessLayout, path, component: page(load, name) });

const tokenSearch = (s: Record<string, unknown>): { token?: string } => ({
  token: typeof s.token === 'string' ? s.token : undefined,
});
// `?next=` is read through safeNext everywhere: a sign-in link cannot send anyone off the console.
const nextSearch = (s: Record<string, unknown>): { next?: string } => ({ next: safeNext(s.next) });

const signIn = createRoute({
  getParentRoute: () => accessLayout,
  path: '/sign-in',
  validateSearch: nextSearch,
  component: page(() => import('./pages/access/SignInPage'), 'SignInPage'),
});
const signUp = createRoute({
  getParentRoute: () => accessLayout,
  path: '/sign-up',
  validateSearch: (s: Record<string, unknown>): { next?: string; email?: string } => ({
    ...nextSearch(s),
    email: typeof s.email === 'string' ? s.email : undefined,
  }),
  component: page(() => import('./pages/access/SignUpPage'), 'SignUpPage'),
});
const setup = access('/setup', () => import('./pages/access/SetupPage'), 'SetupPage');
const twoFactor = createRoute({
  getParentRoute: () => accessLayout,
  path: '/two-factor',
  validateSearch: nextSearch,
  component: page(() => import('./pages/access/TwoFactorPage'), 'TwoFactorPage'),
});
const forgot = access('/forgot-password', () => import('./pages/access/ForgotPasswordPage'), 'ForgotPasswordPage');
const reset = createRoute({
  getParentRoute: () => accessLayout,
  path: '/reset-password',
  validateSearch: tokenSearch,
  component: page(() => import('./pages/access/ResetPasswordPage'), 'ResetPasswordPage'),
});
const acceptInvitation = createRoute({
  getParentRoute: () => accessLayout,
  path: '/invitations/accept',
  validateSearch: tokenSearch,
  component: page(() => import('./pages/access/AcceptInvitationPage'), 'AcceptInvitationPage'),
});
const createOrg = access('/create-org', () => import('./pages/access/CreateOrgPage'), 'CreateOrgPage');

// Signed-in pages inside the shell (header, navigation, Big Red Button).
const appLayout = createRoute({
  getParentRoute: () => rootRoute,
  id: 'app',
  // Not signed in: the sign-in page (or the first-run page on a hub without users). No org: create one.
  beforeLoad: async ({ location }) => {
    let me: Me;
    try {
      me = await queryClient.ensureQueryData({ queryKey: ['me'], queryFn: () => api<Me>('/v1/me') });
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 401) throw e;
      const setup = await api<{ needs_owner: boolean }>('/v1/setup/status').catch(() => ({ needs_owner: false }));
      if (setup.needs_owner) throw redirect({ to: '/setup' });
      throw redirect({ to: '/sign-in', search: { next: location.href === '/' ? undefined : location.href } });
    }
    if (!me.org) throw redirect({ to: '/create-org' });
  },
  component: page(() => import('./components/AppLayout'), 'AppLayout'),
});
const app = <P extends string>(path: P, load: () => Promise<Record<string, unknown>>, name: string) =>
  createRoute({ getParentRoute: () => appLayout, path, component: page(load, name) });

export interface RunsSearch {
  agent?: string;
  status?: string;
  environment?: string;
  tag?: string;
  q?: string;
  range?: string;
}
const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);

const home = app('/', () => import('./pages/HomePage'), 'HomePage');
const onboarding = app('/onboarding', () => import('./pages/OnboardingPage'), 'OnboardingPage');
export const runsRoute = createRoute({
  getParentRoute: () => appLayout,
  path: '/runs',
  validateSearch: (s: Record<string, unknown>): RunsSearch => ({
    agent: str(s.agent),
    status: str(s.status),
    environment: str(s.environment),
    tag: str(s.tag),
    q: str(s.q),
    range: str(s.range),
  }),
  component: page(() => import('./pages/RunsPage'), 'RunsPage'),
});
export const runRoute = app('/runs/$runId', () => import('./pages/RunReplayPage'), 'RunReplayPage');
const approvals = app('/approvals', () => import('./pages/ApprovalsPage'), 'ApprovalsPage');
const policies = app('/policies', () => import('./pages/PoliciesPage'), 'PoliciesPage');
export const policyRoute = app('/policies/$policyId', () => import('./pages/PolicyEditorPage'), 'PolicyEditorPage');
const emergency = app('/emergency', () => import('./pages/EmergencyPage'), 'EmergencyPage');
const budgets = app('/budgets', () => import('./pages/BudgetsPage'), 'BudgetsPage');
const alerts = app('/alerts', () => import('./pages/alerts/AlertsPage'), 'AlertsPage');
const apiKeys = app('/settings/api-keys', () => import('./pages/settings/ApiKeysPage'), 'ApiKeysPage');
const members = app('/settings/members', () => import('./pages/settings/MembersPage'), 'MembersPage');
const security = app('/settings/security', () => import('./pages/settings/SecurityPage'), 'SecurityPage');
// Console part 2: agents, costs, audit, reports, governance and the other settings pages.
const agents = app('/agents', () => import('./pages/agents/AgentsPage'), 'AgentsPage');
const agent = app('/agents/$agentId', () => import('./pages/agents/AgentPage'), 'AgentPage');
const costs = app('/costs', () => import('./pages/costs/CostsPage'), 'CostsPage');
const audit = app('/audit', () => import('./pages/audit/AuditPage'), 'AuditPage');
const reports = app('/reports', () => import('./pages/reports/ReportsPage'), 'ReportsPage');
const report = app('/reports/$reportId', () => import('./pages/reports/ReportPage'), 'ReportPage');
const packs = app('/governance/packs', () => import('./pages/governance/PolicyPacksPage'), 'PolicyPacksPage');
const pack = app('/governance/packs/$packId', () => import('./pages/governance/PackPage'), 'PackPage');
const orgProfile = app('/settings/org', () => import('./pages/settings/OrgProfilePage'), 'OrgProfilePage');
const teams = app('/settings/teams', () => import('./pages/settings/TeamsPage'), 'TeamsPage');
const privacy = app('/settings/privacy', () => import('./pages/privacy/PrivacyPage'), 'PrivacyPage');
const notificationPrefs = app(
  '/settings/notifications',
  () => import('./pages/settings/NotificationsPage'),
  'NotificationsPage',
);
const webhooks = app('/settings/webhooks', () => import('./pages/settings/WebhooksPage'), 'WebhooksPage');
const mcpEndpoints = app(
  '/settings/mcp-endpoints',
  () => import('./pages/settings/McpEndpointsPage'),
  'McpEndpointsPage',
);
const plan = app('/settings/plan', () => import('./pages/settings/PlanPage'), 'PlanPage');
const outbox = app('/settings/email-outbox', () => import('./pages/settings/EmailOutboxPage'), 'EmailOutboxPage');
const dataRights = app('/settings/data', () => import('./pages/governance/DataRightsPage'), 'DataRightsPage');

const routeTree = rootRoute.addChildren([
  accessLayout.addChildren([signIn, signUp, setup, twoFactor, forgot, reset, acceptInvitation, createOrg]),
  appLayout.addChildren([
    home,
    onboarding,
    runsRoute,
    runRoute,
    approvals,
    policies,
    policyRoute,
    emergency,
    budgets,
    alerts,
    apiKeys,
    members,
    security,
    agents,
    agent,
    costs,
    audit,
    reports,
    report,
    packs,
    pack,
    orgProfile,
    teams,
    privacy,
    notificationPrefs,
    webhooks,
    mcpEndpoints,
    plan,
    outbox,
    dataRights,
  ]),
]);

export const router = createRouter({
  routeTree,
  defaultPreload: 'intent',
  scrollRestoration: true,
  defaultErrorComponent: RouteError,
});

declare module '@tanstack/react-router' {
  interface Register {
    router: typeof router;
  }
}
