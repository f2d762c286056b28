/**
 * The navigation, in order. `perm` hides an entry from people without that permission (from
 * `GET /v1/me`); `badge: 'approvals'` shows the live pending-approvals count.
 */
import {
  IconAlertOctagon,
  IconBell,
  IconBellRinging,
  IconBuilding,
  IconChecklist,
  IconCoin,
  IconDatabaseExport,
  IconEyeOff,
  IconFileAnalytics,
  IconFingerprint,
  IconGauge,
  IconHome,
  IconKey,
  IconListDetails,
  IconMail,
  IconPackages,
  IconPlugConnected,
  IconRobot,
  IconServerBolt,
  IconShieldCheck,
  IconSitemap,
  IconToggleRight,
  IconUsers,
  IconWallet,
  IconWebhook,
} from '@tabler/icons-react';
import type { ComponentType } from 'react';

export interface NavEntry {
  to: string;
  label: string;
  icon: ComponentType<{ size?: number; stroke?: number }>;
  perm?: string;
  badge?: 'approvals';
  group?: 'settings';
}

export const NAV: NavEntry[] = [
  { to: '/', label: 'Home', icon: IconHome },
  { to: '/onboarding', label: 'Connect an agent', icon: IconPlugConnected, perm: 'api_keys:manage' },
  { to: '/agents', label: 'Agents', icon: IconRobot, perm: 'agents:read' },
  { to: '/runs', label: 'Runs', icon: IconListDetails, perm: 'runs:read' },
  { to: '/approvals', label: 'Approvals', icon: IconChecklist, perm: 'approvals:read', badge: 'approvals' },
  { to: '/policies', label: 'Policies', icon: IconShieldCheck, perm: 'policies:read' },
  { to: '/emergency', label: 'Emergency', icon: IconAlertOctagon, perm: 'controls:read' },
  { to: '/budgets', label: 'Budgets', icon: IconWallet, perm: 'budgets:read' },
  { to: '/costs', label: 'Costs', icon: IconCoin, perm: 'costs:read' },
  { to: '/alerts', label: 'Alerts', icon: IconBellRinging, perm: 'runs:read' },
  { to: '/reports', label: 'Reports', icon: IconFileAnalytics, perm: 'reports:read' },
  { to: '/governance/packs', label: 'Policy packs', icon: IconPackages, perm: 'policies:read' },
  { to: '/audit', label: 'Audit log', icon: IconFingerprint, perm: 'audit:read' },
  { to: '/settings/api-keys', label: 'API keys', icon: IconKey, perm: 'api_keys:read', group: 'settings' },
  { to: '/settings/members', label: 'Members', icon: IconUsers, perm: 'members:read', group: 'settings' },
  { to: '/settings/security', label: 'Security', icon: IconGauge, group: 'settings' },
  { to: '/settings/org', label: 'Organization', icon: IconBuilding, perm: 'org:read', group: 'settings' },
  { to: '/settings/teams', label: 'Teams', icon: IconSitemap, perm: 'teams:read', group: 'settings' },
  { to: '/settings/privacy', label: 'Privacy', icon: IconEyeOff, perm: 'org:read', group: 'settings' },
  {
    to: '/settings/notifications',
    label: 'Notifications',
    icon: IconBell,
    perm: 'notifications:read',
    group: 'settings',
  },
  { to: '/settings/webhooks', label: 'Webhooks', icon: IconWebhook, perm: 'integrations:read', group: 'settings' },
  {
    to: '/settings/mcp-endpoints',
    label: 'MCP endpoints',
    icon: IconServerBolt,
    perm: 'integrations:read',
    group: 'settings',
  },
  { to: '/settings/plan', label: 'Plan and features', icon: IconToggleRight, perm: 'org:read', group: 'settings' },
  { to: '/settings/email-outbox', label: 'Email outbox', icon: IconMail, perm: 'org:update', group: 'settings' },
  { to: '/settings/data', label: 'Data and deletion', icon: IconDatabaseExport, perm: 'org:export', group: 'settings' },
];
