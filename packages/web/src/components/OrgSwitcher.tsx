import { Button, Menu } from '@mantine/core';
import { IconChevronDown, IconPlus } from '@tabler/icons-react';
import { useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate } from '@tanstack/react-router';
import { api } from '../api/client';
import { useMe } from '../api/queries';

/** Switches the session's active organization; every query is then refetched for the new org. */
export function OrgSwitcher() {
  const me = useMe();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const org = me.data?.org;
  if (!org) return null;

  async function switchTo(id: string) {
    await api(`/v1/orgs/${id}/activate`, { method: 'POST' });
    await qc.resetQueries();
    await navigate({ to: '/' });
  }

  return (
    <Menu position="bottom-start" width={240}>
      <Menu.Target>
        <Button
          variant="subtle"
          color="gray"
          rightSection={<IconChevronDown size={14} />}
          aria-label={`Organization ${org.name}: switch organization`}
          px={6}
          maw={{ base: 150, sm: 280 }}
          styles={{ inner: { minWidth: 0 }, label: { overflow: 'hidden', textOverflow: 'ellipsis', display: 'block' } }}
        >
          {org.name}
        </Button>
      </Menu.Target>
      <Menu.Dropdown>
        <Menu.Label>Organizations</Menu.Label>
        {(me.data?.orgs ?? [org]).map((o) => (
          <Menu.Item
            key={o.id}
            onClick={() => o.id !== org.id && switchTo(o.id)}
            fw={o.id === org.id ? 700 : undefined}
            rightSection={o.role ? <small>{o.role}</small> : undefined}
          >
            {o.name}
          </Menu.Item>
        ))}
        <Menu.Divider />
        <Menu.Item component={Link} to="/create-org" leftSection={<IconPlus size={14} />}>
          New organization
        </Menu.Item>
      </Menu.Dropdown>
    </Menu>
  );
}
