/** Teams: group members (team leads act on their teams' agents and policies); create, delete, add, remove. */

import type { Member, Team } from '@agentops-hub/contracts';
import { ActionIcon, Badge, Button, Card, Group, Select, Stack, Text, Textarea, TextInput, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconPlus, IconX } from '@tabler/icons-react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { api, errorMessage, type Page } from '../../api/client';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { CreateDialog } from '../../components/CreateDialog';
import { Empty, FormError, PageHeader, QueryStatus } from '../../components/states';
import { usePermissions } from '../../lib/permissions';

export function TeamsPage() {
  const { can } = usePermissions();
  const qc = useQueryClient();
  const [open, setOpen] = useState(false);
  const [deleting, setDeleting] = useState<Team | null>(null);
  const teams = useQuery({ queryKey: ['teams'], queryFn: () => api<Page<Team>>('/v1/teams') });
  const members = useQuery({
    queryKey: ['members'],
    queryFn: () => api<Page<Member>>('/v1/members'),
    enabled: can('members:read'),
  });
  const manage = can('teams:manage');
  const refresh = () => {
    qc.invalidateQueries({ queryKey: ['teams'] });
    qc.invalidateQueries({ queryKey: ['members'] });
  };
  const membership = useMutation({
    mutationFn: ({ team, member, add }: { team: string; member: string; add: boolean }) =>
      add
        ? api(`/v1/teams/${team}/members`, { method: 'POST', body: { member_id: member } })
        : api(`/v1/teams/${team}/members/${member}`, { method: 'DELETE' }),
    onSuccess: refresh,
    onError: (e) => notifications.show({ color: 'red', message: errorMessage(e) }),
  });
  const remove = useMutation({
    mutationFn: (id: string) => api(`/v1/teams/${id}`, { method: 'DELETE' }),
    onSuccess: () => {
      setDeleting(null);
      refresh();
    },
  });
  const memberName = (id: string) => {
    const m = members.data?.data.find((x) => x.id === id || x.user_id === id);
    return m ? m.name || m.email : id;
  };
  const newButton = manage && (
    <Button leftSection={<IconPlus size={16} />} onClick={() => setOpen(true)}>
      New team
    </Button>
  );

  return (
    <Stack>
      <PageHeader
        title="Teams"
        description="Groups of people. A team lead manages the agents, policies and budgets of their teams."
        actions={newButton}
      />
      <QueryStatus query={teams} />
      {teams.data && teams.data.data.length === 0 && (
        <Card withBorder>
          <Empty title="No team yet" action={newButton}>
            Teams let a team lead look after their own agents, and let budgets and costs roll up per team.
          </Empty>
        </Card>
      )}
      {teams.data?.data.map((t) => {
        const others = (members.data?.data ?? []).filter((m) => !t.member_ids.includes(m.id));
        return (
          <Card withBorder key={t.id} aria-label={`Team ${t.name}`} component="section">
            <Group justify="space-between" align="flex-start">
              <Stack gap={2}>
                <Title order={2} size="h4">
                  {t.name}
                </Title>
                {t.description && (
                  <Text size="sm" c="dimmed">
                    {t.description}
                  </Text>
                )}
              </Stack>
              {manage && (
                <Button size="xs" variant="subtle" color="red" onClick={() => setDeleting(t)}>
                  Delete team
                </Button>
              )}
            </Group>
            <Group gap="xs" mt="sm">
              {t.member_ids.length === 0 && (
                <Text size="sm" c="dimmed">
                  No member yet.
                </Text>
              )}
              {t.member_ids.map((id) => (
                <Badge
                  key={id}
                  variant="light"
                  size="lg"
                  tt="none"
                  rightSection={
                    manage ? (
                      <ActionIcon
                        size="xs"
                        variant="transparent"
                        aria-label={`Remove ${memberName(id)} from ${t.name}`}
                        onClick={() => membership.mutate({ team: t.id, member: id, add: false })}
                      >
                        <IconX size={12} />
                      </ActionIcon>
                    ) : undefined
                  }
                >
                  {memberName(id)}
                </Badge>
              ))}
            </Group>
            {manage && others.length > 0 && (
              <Select
                mt="sm"
                maw={320}
                label={`Add a member to ${t.name}`}
                placeholder="Choose a member"
                searchable
                data={others.map((m) => ({ value: m.id, label: `${m.name || m.email} (${m.role})` }))}
                value={null}
                onChange={(v) => v && membership.mutate({ team: t.id, member: v, add: true })}
              />
            )}
          </Card>
        );
      })}
      <CreateDialog opened={open} onClose={() => setOpen(false)} title="New team">
        <TeamForm
          onDone={() => {
            setOpen(false);
            refresh();
          }}
        />
      </CreateDialog>
      <ConfirmDialog
        opened={Boolean(deleting)}
        onClose={() => setDeleting(null)}
        title="Delete this team?"
        confirmLabel="Delete team"
        pending={remove.isPending}
        error={remove.error}
        onConfirm={() => deleting && remove.mutate(deleting.id)}
      >
        <b>{deleting?.name}</b> is removed. Its members stay in the organization; its agents keep running without a
        team.
      </ConfirmDialog>
    </Stack>
  );
}

function TeamForm({ onDone }: { onDone: () => void }) {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const create = useMutation({
    mutationFn: () => api<Team>('/v1/teams', { method: 'POST', body: { name: name.trim(), description } }),
    onSuccess: (t) => {
      notifications.show({ color: 'teal', message: `Team ${t.name} created.` });
      onDone();
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <form onSubmit={submit}>
      <Stack>
        <TextInput
          label="Team name"
          required
          value={name}
          onChange={(e) => setName(e.currentTarget.value)}
          data-autofocus
        />
        <Textarea label="Description" value={description} onChange={(e) => setDescription(e.currentTarget.value)} />
        <FormError error={create.error} />
        <Button type="submit" loading={create.isPending} disabled={!name.trim()}>
          Create team
        </Button>
      </Stack>
    </form>
  );
}
