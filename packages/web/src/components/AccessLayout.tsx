/** The frame of the access pages (sign-in, sign-up, first run, reset, invitations): a centred card. */
import { Anchor, Box, Center, Group, Paper, Stack, Text, ThemeIcon } from '@mantine/core';
import { Outlet } from '@tanstack/react-router';
import { ColorSchemeToggle } from './ColorSchemeToggle';

export function Logo() {
  return (
    <Group gap={8} wrap="nowrap">
      <ThemeIcon size={28} radius="md" aria-hidden>
        <svg viewBox="0 0 32 32" width="18" height="18" aria-hidden="true">
          <path
            d="M9 22l7-13 7 13"
            fill="none"
            stroke="currentColor"
            strokeWidth="3"
            strokeLinecap="round"
            strokeLinejoin="round"
          />
        </svg>
      </ThemeIcon>
      <Text fw={700}>AgentOps Hub</Text>
    </Group>
  );
}

export function AccessLayout() {
  return (
    <Box mih="100vh" bg="var(--mantine-color-body)">
      <Group justify="space-between" p="md">
        <Logo />
        <ColorSchemeToggle />
      </Group>
      <Center px="md" pb="xl">
        <Stack w="100%" maw={440}>
          <Paper withBorder shadow="sm" p="xl" component="main">
            <Outlet />
          </Paper>
          <Text size="xs" c="dimmed" ta="center">
            Self-hosted control plane for AI agents · <Anchor href="/docs">API reference</Anchor>
          </Text>
        </Stack>
      </Center>
    </Box>
  );
}
