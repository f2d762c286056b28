/** Row → wire mappers for orgs, members, teams and invitations. */
import type { InvitationsTable, OrgsTable, TeamsTable } from '../../db/schema.ts';

export const iso = (t: number | null | undefined) =>
  t === null || t === undefined ? null : new Date(Number(t)).toISOString();

export const DEFAULT_ORG_SETTINGS = { auto_register_agents: true, default_deny: false };

export function toOrg(row: OrgsTable) {
  return {
    id: row.id,
    name: row.name,
    logo_url: row.logo_url,
    billing_email: row.billing_email,
    plan: row.plan as 'starter' | 'growth' | 'scale',
    region: row.region,
    timezone: row.timezone,
    locale: row.locale,
    industry: row.industry,
    settings: { ...DEFAULT_ORG_SETTINGS, ...JSON.parse(row.settings) },
    created_at: iso(row.created_at)!,
  };
}
export type OrgDto = ReturnType<typeof toOrg>;

export function toMember(
  row: { id: string; user_id: string; role: string; created_at: number; email: string | null; name: string | null },
  teamIds: string[],
) {
  return {
    id: row.id,
    user_id: row.user_id,
    email: row.email ?? '',
    name: row.name ?? '',
    role: row.role,
    team_ids: teamIds,
    created_at: iso(row.created_at)!,
  };
}

export function toTeam(row: TeamsTable, memberIds: string[]) {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    member_ids: memberIds,
    created_at: iso(row.created_at)!,
  };
}

export function toInvitation(row: InvitationsTable, now: number) {
  const status = row.status === 'pending' && Number(row.expires_at) <= now ? 'expired' : row.status;
  return {
    id: row.id,
    email: row.email,
    role: row.role,
    team_id: row.team_id,
    status,
    invited_by: row.invited_by,
    expires_at: iso(row.expires_at)!,
    created_at: iso(row.created_at)!,
  };
}
