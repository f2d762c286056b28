/**
 * The signed-in shell: header (org switcher, kill-switch state, Big Red Button, dark mode, account),
 * navigation filtered by permissions with the pending-approvals count, and the page. Sends visitors who
 * are not signed in to the sign-in page (or the first-run page), and people without an org to create one.
 */
import {
  Alert,
  AppShell,
  Badge,
  Box,
  Burger,
  Center,
  Group,
  NavLink,
  ScrollArea,
  Stack,
  Text,
  Tooltip,
} from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { Link, Navigate, Outlet, useRouterState } from '@tanstack/react-router';
import { ApiError } from '../api/client';
import { useApprovalEvents, useControls, useMe, usePendingApprovals } from '../api/queries';
import { hasPermission } from '../lib/permissions';
import { Logo } from './AccessLayout';
import { BigRedButton } from './BigRedButton';
import { ColorSchemeToggle } from './ColorSchemeToggle';
import { ButtonLink } from './links';
import { NAV } from './nav';
import { OrgSwitcher } from './OrgSwitcher';
import { ErrorState, Loading } from './states';
import { UserMenu } from './UserMenu';

export function AppLayout() {
  const me = useMe();
  const [opened, { toggle, close }] = useDisclosure();
  const path = useRouterState({ select: (s) => s.location.pathname });
  const perms = me.data?.permissions;
  const inOrg = Boolean(me.data?.org);
  const pending = usePendingApprovals(inOrg && hasPermission(perms, 'approvals:read'));
  useApprovalEvents(inOrg && hasPermission(perms, 'approvals:read'), me.data?.org?.id);
  const controls = useControls(inOrg && hasPermission(perms, 'controls:read'));

  if (me.isPending) return <Loading label="Loading your workspace…" />;
  // The route's beforeLoad sends signed-out visitors away; this covers a session that ends while here.
  // (No redirect from here: while a sign-out navigates away, it would chase its own URL.)
  if (me.error instanceof ApiError && me.error.status === 401)
    return (
      <Center py={80}>
        <Stack align="center">
          <Text>Your session has ended.</Text>
          <ButtonLink to="/sign-in" search={{ next: undefined }}>
            Sign in again
          </ButtonLink>
        </Stack>
      </Center>
    );
  if (me.error) return <ErrorState error={me.error} retry={() => me.refetch()} />;
  if (!me.data.org) return <Navigate to="/create-org" />;

  const pendingCount = pending.data?.data.length ?? 0;
  const engaged = controls.data?.kill_switch.engaged;
  const entries = NAV.filter((n) => !n.perm || hasPermission(perms, n.perm));

  return (
    <AppShell
      header={{ height: 60 }}
      navbar={{ width: 230, breakpoint: 'sm', collapsed: { mobile: !opened } }}
      padding={{ base: 'sm', sm: 'lg' }}
    >
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Open navigation" />
            <Box visibleFrom="sm">
              <Link to="/" style={{ color: 'inherit', textDecoration: 'none' }} aria-label="AgentOps Hub home">
                <Logo />
              </Link>
            </Box>
            <OrgSwitcher />
          </Group>
          {/* On a phone: the kill switch (as an icon) and the account menu stay in reach; the rest folds away. */}
          <Group gap="xs" wrap="nowrap" style={{ flexShrink: 0 }}>
            {controls.data && (
              <Tooltip
                label={engaged ? `Kill switch engaged: ${controls.data.kill_switch.reason ?? ''}` : 'No kill switch'}
              >
                <Badge
                  color={engaged ? 'red' : 'green'}
                  variant={engaged ? 'filled' : 'light'}
                  size="lg"
                  visibleFrom="md"
                  data-testid="kill-switch-state"
                >
                  {engaged ? 'All agents stopped' : 'Agents running'}
                </Badge>
              </Tooltip>
            )}
            {hasPermission(perms, 'controls:manage') && controls.data && <BigRedButton controls={controls.data} />}
            <Box visibleFrom="sm">
              <ColorSchemeToggle />
            </Box>
            <UserMenu />
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" aria-label="Main navigation">
        <ScrollArea>
          {entries
            .filter((n) => !n.group)
            .map((n) => (
              <NavItem key={n.to} entry={n} path={path} count={n.badge ? pendingCount : 0} onClick={close} />
            ))}
          <Text size="xs" c="dimmed" fw={600} tt="uppercase" mt="md" mb={4} px="sm">
            Settings
          </Text>
          {entries
            .filter((n) => n.group === 'settings')
            .map((n) => (
              <NavItem key={n.to} entry={n} path={path} count={0} onClick={close} />
            ))}
        </ScrollArea>
      </AppShell.Navbar>
      <AppShell.Main>
        {engaged && (
          <Alert
            color="red"
            variant="filled"
            hiddenFrom="md"
            mb="md"
            title="All agents stopped"
            data-testid="kill-switch-banner"
          >
            The kill switch is engaged{controls.data?.kill_switch.reason ? `: ${controls.data.kill_switch.reason}` : ''}
            .
          </Alert>
        )}
        <Outlet />
      </AppShell.Main>
    </AppShell>
  );
}

function NavItem({
  entry,
  path,
  count,
  onClick,
}: {
  entry: (typeof NAV)[number];
  path: string;
  count: number;
  onClick: () => void;
}) {
  const active = entry.to === '/' ? path === '/' : path === entry.to || path.startsWith(`${entry.to}/`);
  const Icon = entry.icon;
  return (
    <NavLink
      component={Link}
      to={entry.to}
      label={entry.label}
      active={active}
      aria-current={active ? 'page' : undefined}
      leftSection={<Icon size={18} stroke={1.6} />}
      onClick={onClick}
      rightSection={
        count > 0 ? (
          <Badge
            size="sm"
            color="orange"
            circle={count < 10}
            aria-label={`${count} pending`}
            data-testid="pending-count"
          >
            {count}
          </Badge>
        ) : undefined
      }
    />
  );
}
