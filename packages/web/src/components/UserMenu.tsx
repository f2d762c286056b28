import { Avatar, Menu, UnstyledButton, useComputedColorScheme, useMantineColorScheme } from '@mantine/core';
import { IconLogout, IconMoon, IconShieldLock, IconSun } from '@tabler/icons-react';
import { useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate } from '@tanstack/react-router';
import { auth } from '../api/auth';
import { useMe } from '../api/queries';

export function UserMenu() {
  const me = useMe();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const user = me.data?.user;
  const { setColorScheme } = useMantineColorScheme();
  const scheme = useComputedColorScheme('light');
  const initials = (user?.name || user?.email || '?')
    .split(/\s+/)
    .map((w) => w[0])
    .join('')
    .slice(0, 2)
    .toUpperCase();

  async function signOut() {
    await auth.signOut().catch(() => undefined);
    // Leave the signed-in pages first, then forget their data.
    await navigate({ to: '/sign-in', search: { next: undefined } });
    qc.clear();
  }

  return (
    <Menu position="bottom-end" width={220}>
      <Menu.Target>
        <UnstyledButton aria-label="Account menu">
          <Avatar color="blue" radius="xl" size={34}>
            {initials}
          </Avatar>
        </UnstyledButton>
      </Menu.Target>
      <Menu.Dropdown>
        <Menu.Label>
          {user?.name}
          <br />
          {user?.email} · {me.data?.org?.role}
        </Menu.Label>
        <Menu.Item component={Link} to="/settings/security" leftSection={<IconShieldLock size={14} />}>
          Security and 2FA
        </Menu.Item>
        <Menu.Item
          leftSection={scheme === 'dark' ? <IconSun size={14} /> : <IconMoon size={14} />}
          onClick={() => setColorScheme(scheme === 'dark' ? 'light' : 'dark')}
        >
          {scheme === 'dark' ? 'Light mode' : 'Dark mode'}
        </Menu.Item>
        <Menu.Item color="red" leftSection={<IconLogout size={14} />} onClick={signOut}>
          Sign out
        </Menu.Item>
      </Menu.Dropdown>
    </Menu>
  );
}
