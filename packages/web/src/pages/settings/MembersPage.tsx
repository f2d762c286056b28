/**
 * Members and invitations: who is in the organization with which role (the console's DataTable, cards on
 * a phone, filtered by name, email or role); invite by email with a role; pending invitations.
 */

import type { Invitation, Member } from '@agentops-hub/contracts';
import { Alert, Badge, Button, Card, Select, Stack, Text, TextInput, Title } from '@mantine/core';
import { IconMail, IconSearch } from '@tabler/icons-react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { api, type Page } from '../../api/client';
import { CopyField } from '../../components/CopyField';
import { CreateDialog } from '../../components/CreateDialog';
import { DataTable } from '../../components/DataTable';
import { FilterBar } from '../../components/FilterBar';
import { StatusBadge } from '../../components/StatusBadge';
import { Empty, ErrorState, FormError, PageHeader, QueryStatus } from '../../components/states';
import { dateTime } from '../../lib/format';
import { usePermissions } from '../../lib/permissions';

const ROLES = [
  { value: 'viewer', label: 'Viewer — reads, never changes or approves' },
  { value: 'member', label: 'Member — reads and decides approvals' },
  { value: 'team_lead', label: "Team lead — manages their team's agents and policies" },
  { value: 'admin', label: 'Admin — manages everything but billing and deletion' },
  { value: 'owner', label: 'Owner — everything' },
];
const roleShort = ROLES.map((r) => ({ value: r.value, label: r.value.replace('_', ' ') }));

/** Roles as badges: the more a role may do, the warmer its color. */
const ROLE_COLORS: Record<string, string> = {
  owner: 'red',
  admin: 'orange',
  team_lead: 'violet',
  member: 'blue',
  viewer: 'gray',
};

/** The same colors keyed by the role as shown ("team lead"). */
const ROLE_COLORS_SHOWN = Object.fromEntries(Object.entries(ROLE_COLORS).map(([k, v]) => [k.replace('_', ' '), v]));

/**
 * The members the filters keep: `q` is part of a name or an email, any case; `role` an exact role.
 * @example filterMembers(members, { q: 'ann', role: 'admin' })
 */
export function filterMembers<M extends Pick<Member, 'name' | 'email' | 'role'>>(
  members: readonly M[],
  f: { q?: string; role?: string | null },
): M[] {
  const q = f.q?.trim().toLowerCase();
  return members.filter(
    (m) =>
      (!f.role || m.role === f.role) &&
      (!q || (m.name ?? '').toLowerCase().includes(q) || m.email.toLowerCase().includes(q)),
  );
}

export function MembersPage() {
  const { can, me } = usePermissions();
  const qc = useQueryClient();
  const [open, setOpen] = useState(false);
  const manage = can('members:manage');
  const members = useQuery({ queryKey: ['members'], queryFn: () => api<Page<Member>>('/v1/members') });
  const invitations = useQuery({ queryKey: ['invitations'], queryFn: () => api<Page<Invitation>>('/v1/invitations') });
  const setRole = useMutation({
    mutationFn: ({ id, role }: { id: string; role: string }) =>
      api(`/v1/members/${id}`, { method: 'PATCH', body: { role } }),
    onSettled: () => qc.invalidateQueries({ queryKey: ['members'] }),
  });
  const removeMember = useMutation({
    mutationFn: (id: string) => api(`/v1/members/${id}`, { method: 'DELETE' }),
    onSettled: () => qc.invalidateQueries({ queryKey: ['members'] }),
  });
  const revoke = useMutation({
    mutationFn: (id: string) => api(`/v1/invitations/${id}`, { method: 'DELETE' }),
    onSettled: () => qc.invalidateQueries({ queryKey: ['invitations'] }),
  });
  const pendingInvites = (invitations.data?.data ?? []).filter((i) => i.status === 'pending');
  const [q, setQ] = useState('');
  const [roleFilter, setRoleFilter] = useState<string | null>(null);
  const shown = filterMembers(members.data?.data ?? [], { q, role: roleFilter });

  return (
    <Stack>
      <PageHeader
        title="Members"
        description="People in this organization and their roles."
        actions={
          manage && (
            <Button leftSection={<IconMail size={16} />} onClick={() => setOpen(true)}>
              Invite someone
            </Button>
          )
        }
      />
      <QueryStatus query={members} />
      {(setRole.error || removeMember.error) && <ErrorState error={setRole.error ?? removeMember.error} />}
      {members.data && (
        <FilterBar active={[q, roleFilter].filter(Boolean).length}>
          <TextInput
            label="Search"
            placeholder="Name or email"
            leftSection={<IconSearch size={16} />}
            value={q}
            onChange={(e) => setQ(e.currentTarget.value)}
            w={240}
          />
          <Select
            // Not "Role": the invitation dialog's field is called that.
            label="Access level"
            placeholder="Any role"
            clearable
            data={roleShort}
            value={roleFilter}
            onChange={setRoleFilter}
            w={160}
          />
        </FilterBar>
      )}
      {members.data && shown.length === 0 && (
        <Card withBorder>
          <Empty title="No member matches">Change the search or the role.</Empty>
        </Card>
      )}
      {shown.length > 0 && (
        <Card withBorder p={0}>
          <DataTable
            label="Members"
            rows={shown}
            rowKey={(m) => m.id}
            minWidth={640}
            columns={[
              {
                header: 'Name',
                card: 'title',
                cell: (m) => (
                  <>
                    {m.name} {m.user_id === me?.user?.id && <Badge size="xs">you</Badge>}
                  </>
                ),
              },
              {
                header: 'Role',
                card: 'badge',
                cell: (m) =>
                  manage && m.user_id !== me?.user?.id ? (
                    <Select
                      aria-label={`Role of ${m.email}`}
                      data={roleShort}
                      value={m.role}
                      onChange={(role) => role && setRole.mutate({ id: m.id, role })}
                      w={150}
                      size="xs"
                      allowDeselect={false}
                    />
                  ) : (
                    <StatusBadge status={m.role.replace('_', ' ')} colors={ROLE_COLORS_SHOWN} />
                  ),
              },
              { header: 'Email', card: true, cell: (m) => m.email },
              { header: 'Joined', card: true, cell: (m) => dateTime(m.created_at) },
              {
                header: 'Remove',
                card: 'badge',
                hidden: !manage,
                cell: (m) =>
                  m.user_id !== me?.user?.id && (
                    <Button
                      size="xs"
                      variant="subtle"
                      color="red"
                      onClick={() => removeMember.mutate(m.id)}
                      aria-label={`Remove ${m.email}`}
                    >
                      Remove
                    </Button>
                  ),
              },
            ]}
          />
        </Card>
      )}
      <Title order={2} size="h4" mt="md">
        Pending invitations
      </Title>
      {invitations.data && pendingInvites.length === 0 && (
        <Text size="sm" c="dimmed">
          No pending invitation.
        </Text>
      )}
      {pendingInvites.length > 0 && (
        <Card withBorder p={0}>
          <DataTable
            label="Pending invitations"
            rows={pendingInvites}
            rowKey={(i) => i.id}
            minWidth={560}
            columns={[
              { header: 'Email', card: 'title', cell: (i) => i.email },
              {
                header: 'Role',
                card: 'badge',
                cell: (i) => <StatusBadge status={i.role.replace('_', ' ')} colors={ROLE_COLORS_SHOWN} />,
              },
              { header: 'Expires', card: true, cell: (i) => dateTime(i.expires_at) },
              {
                header: 'Revoke',
                card: 'badge',
                hidden: !manage,
                cell: (i) => (
                  <Button
                    size="xs"
                    variant="subtle"
                    color="red"
                    onClick={() => revoke.mutate(i.id)}
                    aria-label={`Revoke the invitation of ${i.email}`}
                  >
                    Revoke
                  </Button>
                ),
              },
            ]}
          />
        </Card>
      )}
      <CreateDialog opened={open} onClose={() => setOpen(false)} title="Invite someone" size="lg">
        <InviteForm
          canInviteOwner={me?.org?.role === 'owner'}
          onDone={() => qc.invalidateQueries({ queryKey: ['invitations'] })}
          onClose={() => setOpen(false)}
        />
      </CreateDialog>
    </Stack>
  );
}

function InviteForm({
  canInviteOwner,
  onDone,
  onClose,
}: {
  canInviteOwner: boolean;
  onDone: () => void;
  onClose: () => void;
}) {
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<string | null>('member');
  const invite = useMutation({
    mutationFn: () => api<Invitation>('/v1/invitations', { method: 'POST', body: { email, role } }),
    onSuccess: onDone,
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    invite.mutate();
  };
  if (invite.data)
    return (
      <Stack>
        <Alert color="teal" title="Invitation sent">
          We emailed {invite.data.email}. Without SMTP, pass the link on yourself: it works once, for that email, for 7
          days.
        </Alert>
        {invite.data.accept_url && (
          <CopyField value={invite.data.accept_url} label="Copy invitation link" testId="invite-link" />
        )}
        <Button onClick={onClose}>Done</Button>
      </Stack>
    );
  return (
    <form onSubmit={submit}>
      <Stack>
        <TextInput
          label="Email"
          type="email"
          required
          value={email}
          onChange={(e) => setEmail(e.currentTarget.value)}
        />
        <Select
          label="Role"
          data={ROLES.filter((r) => canInviteOwner || r.value !== 'owner')}
          value={role}
          onChange={setRole}
          allowDeselect={false}
        />
        <FormError error={invite.error} />
        <Button type="submit" loading={invite.isPending}>
          Send invitation
        </Button>
      </Stack>
    </form>
  );
}
