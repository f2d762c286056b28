import { Alert, Button, Group, PasswordInput, Stack, Text, TextInput, Title } from '@mantine/core';
import { useQueryClient } from '@tanstack/react-query';
import { Navigate, useNavigate, useSearch } from '@tanstack/react-router';
import { type FormEvent, useState } from 'react';
import { auth } from '../../api/auth';
import { errorMessage } from '../../api/client';
import { useSetupStatus } from '../../api/queries';
import { AnchorLink } from '../../components/links';

export function SignInPage() {
  const { next } = useSearch({ from: '/access/sign-in' });
  const navigate = useNavigate();
  const qc = useQueryClient();
  const setup = useSetupStatus();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  if (setup.data?.needs_owner) return <Navigate to="/setup" />;

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const res = await auth.signIn({ email, password });
      if (res?.twoFactorRedirect) {
        await navigate({ to: '/two-factor', search: { next } });
        return;
      }
      await qc.resetQueries();
      await navigate({ href: next ?? '/' });
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={submit} aria-labelledby="sign-in-title">
      <Stack>
        <Title order={1} size="h3" id="sign-in-title">
          Sign in
        </Title>
        {error && (
          <Alert color="red" role="alert">
            {error}
          </Alert>
        )}
        <TextInput
          label="Email"
          type="email"
          autoComplete="email"
          required
          value={email}
          onChange={(e) => setEmail(e.currentTarget.value)}
          data-autofocus
        />
        <PasswordInput
          label="Password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.currentTarget.value)}
        />
        <Group justify="space-between">
          <AnchorLink to="/forgot-password" size="sm">
            Forgot your password?
          </AnchorLink>
          <Button type="submit" loading={busy}>
            Sign in
          </Button>
        </Group>
        <Text size="sm" c="dimmed">
          New here?{' '}
          <AnchorLink to="/sign-up" search={{ next }}>
            Create an account
          </AnchorLink>
        </Text>
      </Stack>
    </form>
  );
}
