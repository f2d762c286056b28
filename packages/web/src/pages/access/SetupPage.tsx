import { Alert, Button, PasswordInput, Stack, Text, TextInput, Title } from '@mantine/core';
import { useQueryClient } from '@tanstack/react-query';
import { Navigate, useNavigate } from '@tanstack/react-router';
import { type FormEvent, useState } from 'react';
import { auth } from '../../api/auth';
import { api, errorMessage } from '../../api/client';
import { useSetupStatus } from '../../api/queries';
import { Loading } from '../../components/states';

/** First run: the hub has no user yet, so the first person creates the owner account and the organization. */
export function SetupPage() {
  const setup = useSetupStatus();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const [form, setForm] = useState({ name: '', email: '', password: '', org: '' });
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (k: keyof typeof form) => (e: { currentTarget: { value: string } }) => {
    // Read now: React may run the updater after the event's target is gone.
    const value = e.currentTarget.value;
    setForm((f) => ({ ...f, [k]: value }));
  };

  if (setup.isPending) return <Loading />;
  if (setup.data && !setup.data.needs_owner && !busy) return <Navigate to="/sign-in" search={{ next: undefined }} />;

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await auth.signUp({ name: form.name, email: form.email, password: form.password });
      await api('/v1/orgs', { method: 'POST', body: { name: form.org } });
      await qc.resetQueries();
      await navigate({ to: '/onboarding' });
    } catch (err) {
      setError(errorMessage(err));
      setBusy(false);
    }
  }

  return (
    <form onSubmit={submit} aria-labelledby="setup-title">
      <Stack>
        <Title order={1} size="h3" id="setup-title">
          Welcome to AgentOps Hub
        </Title>
        <Text c="dimmed" size="sm">
          This hub has no account yet. Create the owner account and your organization: you can invite your team next.
        </Text>
        {error && (
          <Alert color="red" role="alert">
            {error}
          </Alert>
        )}
        <TextInput label="Your name" required autoComplete="name" value={form.name} onChange={set('name')} />
        <TextInput
          label="Email"
          type="email"
          required
          autoComplete="email"
          value={form.email}
          onChange={set('email')}
        />
        <PasswordInput
          label="Password"
          description="At least 10 characters"
          required
          minLength={10}
          autoComplete="new-password"
          value={form.password}
          onChange={set('password')}
        />
        <TextInput label="Organization name" required value={form.org} onChange={set('org')} />
        <Button type="submit" loading={busy}>
          Create owner account
        </Button>
      </Stack>
    </form>
  );
}
