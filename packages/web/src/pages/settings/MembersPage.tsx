/** Members and invitations: who is in the organization with which role; invite by email with a role. */

import type { Invitation, Member } from '@agentops-hub/contracts';
import { Alert, Badge, Button, Card, Select, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { IconMail } from '@tabler/icons-react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { api, type Page } from '../../api/client';
import { CopyField } from '../../components/CopyField';
import { CreateDialog } from '../../components/CreateDialog';
import { ErrorState, FormError, PageHeader, QueryStatus } from '../../components/states';
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
        <Card withBorder p={0}>
          <Table.ScrollContainer minWidth={600}>
            <Table verticalSpacing="sm" aria-label="Members">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Email</Table.Th>
                  <Table.Th>Role</Table.Th>
                  <Table.Th>Joined</Table.Th>
                  <Table.Th />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {members.data.data.map((m) => {
                  const self = m.user_id === me?.user?.id;
                  return (
                    <Table.Tr key={m.id}>
                      <Table.Td>
                        {m.name} {self && <Badge size="xs">you</Badge>}
                      </Table.Td>
                      <Table.Td>{m.email}</Table.Td>
                      <Table.Td>
                        {manage && !self ? (
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
                          <Badge variant="light">{m.role.replace('_', ' ')}</Badge>
                        )}
                      </Table.Td>
                      <Table.Td>{dateTime(m.created_at)}</Table.Td>
                      <Table.Td>
                        {manage && !self && (
                          <Button size="xs" variant="subtle" color="red" onClick={() => removeMember.mutate(m.id)}>
                            Remove
                          </Button>
                        )}
                      </Table.Td>
                    </Table.Tr>
                  );
                })}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
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
          <Table aria-label="Pending invitations">
            <Table.Tbody>
              {pendingInvites.map((i) => (
                <Table.Tr key={i.id}>
                  <Table.Td>{i.email}</Table.Td>
                  <Table.Td>
                    <Badge variant="light">{i.role}</Badge>
                  </Table.Td>
                  <Table.Td>expires {dateTime(i.expires_at)}</Table.Td>
                  <Table.Td>
                    {manage && (
                      <Button size="xs" variant="subtle" color="red" onClick={() => revoke.mutate(i.id)}>
                        Revoke
                      </Button>
                    )}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
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
