/** Loading, empty, error and not-found states: every page shows one of these instead of a blank. */
import { Alert, Button, Center, Group, Loader, Stack, Text, Title } from '@mantine/core';
import { Link } from '@tanstack/react-router';
import type { ReactNode } from 'react';
import { errorMessage } from '../api/client';

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <Center py="xl" role="status" aria-live="polite">
      <Group gap="sm">
        <Loader size="sm" />
        <Text c="dimmed">{label}</Text>
      </Group>
    </Center>
  );
}

export function Empty({ title, children, action }: { title: string; children?: ReactNode; action?: ReactNode }) {
  return (
    <Stack align="center" py="xl" gap="xs">
      <Text fw={600}>{title}</Text>
      {children && (
        <Text c="dimmed" ta="center" maw={480}>
          {children}
        </Text>
      )}
      {action}
    </Stack>
  );
}

export function ErrorState({ error, retry }: { error: unknown; retry?: () => void }) {
  return (
    <Alert color="red" title="Something went wrong" role="alert">
      <Stack gap="xs" align="flex-start">
        <Text size="sm">{errorMessage(error)}</Text>
        {retry && (
          <Button size="xs" variant="light" color="red" onClick={retry}>
            Try again
          </Button>
        )}
      </Stack>
    </Alert>
  );
}

/** A failed mutation's message under its form or button (the same words the API's problem gives). */
export function FormError({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <Text c="red" size="sm" role="alert">
      {errorMessage(error)}
    </Text>
  );
}

/** A query's loading or error state, or nothing once it has data (the page renders the data itself). */
export function QueryStatus({ query }: { query: { error: unknown; isPending: boolean; refetch: () => unknown } }) {
  if (query.isPending) return <Loading />;
  if (query.error) return <ErrorState error={query.error} retry={() => query.refetch()} />;
  return null;
}

/** Renders loading/error for a query, then `children(data)`. */
export function QueryState<T>({
  query,
  children,
  label,
}: {
  query: { data: T | undefined; error: unknown; isPending: boolean; refetch: () => unknown };
  children: (data: T) => ReactNode;
  label?: string;
}) {
  if (query.isPending) return <Loading label={label} />;
  if (query.error || query.data === undefined) return <ErrorState error={query.error} retry={() => query.refetch()} />;
  return <>{children(query.data)}</>;
}

export function NotFound() {
  return (
    <Center py={80}>
      <Stack align="center">
        <Title order={2}>Page not found</Title>
        <Text c="dimmed">There is nothing at this address.</Text>
        <Button component={Link} to="/">
          Go home
        </Button>
      </Stack>
    </Center>
  );
}

export function PageHeader({
  title,
  description,
  actions,
}: {
  title: string;
  description?: string;
  actions?: ReactNode;
}) {
  return (
    <Group justify="space-between" align="flex-start" mb="lg" wrap="wrap">
      <Stack gap={2}>
        <Title order={1} size="h2">
          {title}
        </Title>
        {description && <Text c="dimmed">{description}</Text>}
      </Stack>
      {actions && <Group gap="sm">{actions}</Group>}
    </Group>
  );
}

/**
 * What a route shows when it throws: usually a page's code that could not be loaded because the hub was
 * upgraded since this tab opened (its files have new names), which a reload fixes.
 */
export function RouteError({ error }: { error: unknown }) {
  const stale =
    error instanceof Error && /dynamically imported module|Importing a module script failed/i.test(error.message);
  return (
    <Center py={80} px="md">
      <Stack align="center" maw={520}>
        <Title order={2}>{stale ? 'The console was updated' : 'This page failed'}</Title>
        <Text c="dimmed" ta="center">
          {stale ? 'Reload to get the new version.' : errorMessage(error)}
        </Text>
        <Button onClick={() => window.location.reload()}>Reload</Button>
      </Stack>
    </Center>
  );
}
