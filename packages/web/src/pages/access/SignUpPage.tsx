import { Alert, Button, PasswordInput, Stack, Text, TextInput, Title } from '@mantine/core';
import { useQueryClient } from '@tanstack/react-query';
import { useNavigate, useSearch } from '@tanstack/react-router';
import { type FormEvent, useState } from 'react';
import { auth } from '../../api/auth';
import { errorMessage } from '../../api/client';
import { type SetupStatus, useSetupStatus } from '../../api/queries';
import { AnchorLink } from '../../components/links';

export function SignUpPage() {
  const search = useSearch({ from: '/access/sign-up' });
  const navigate = useNavigate();
  const qc = useQueryClient();
  const [name, setName] = useState('');
  const [email, setEmail] = useState(search.email ?? '');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const setup = useSetupStatus();

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await auth.signUp({ name, email, password });
      await qc.resetQueries();
      // An invitation link brings people back to it; everyone else creates their organization.
      await navigate({ href: search.next ?? '/create-org' });
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={submit} aria-labelledby="sign-up-title">
      <Stack>
        <Title order={1} size="h3" id="sign-up-title">
          Create your account
        </Title>
        {setup.data && <SignupPolicyNote status={setup.data} />}
        {error && (
          <Alert color="red" role="alert">
            {error}
          </Alert>
        )}
        <TextInput
          label="Your name"
          required
          autoComplete="name"
          value={name}
          onChange={(e) => setName(e.currentTarget.value)}
        />
        <TextInput
          label="Email"
          type="email"
          required
          autoComplete="email"
          value={email}
          onChange={(e) => setEmail(e.currentTarget.value)}
        />
        <PasswordInput
          label="Password"
          description="At least 10 characters"
          required
          minLength={10}
          autoComplete="new-password"
          value={password}
          onChange={(e) => setPassword(e.currentTarget.value)}
        />
        <Button type="submit" loading={busy}>
          Create account
        </Button>
        <Text size="sm" c="dimmed">
          Already have an account?{' '}
          <AnchorLink to="/sign-in" search={{ next: search.next }}>
            Sign in
          </AnchorLink>
        </Text>
      </Stack>
    </form>
  );
}

/** Says before anyone types a password who may create an account on this hub (HUB_SIGNUP). */
function SignupPolicyNote({ status }: { status: SetupStatus }) {
  if (status.needs_owner || status.signup === 'open') return null;
  return (
    <Alert color="blue" data-testid="signup-policy">
      {status.signup === 'domain'
        ? `Accounts on this hub are for addresses at ${status.signup_domains?.join(', ')}, or by invitation.`
        : 'Accounts on this hub are by invitation only: sign up with the address your invitation was sent to.'}
    </Alert>
  );
}
