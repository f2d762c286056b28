import { Alert, Button, PasswordInput, Stack, Title } from '@mantine/core';
import { useSearch } from '@tanstack/react-router';
import { type FormEvent, useState } from 'react';
import { auth } from '../../api/auth';
import { errorMessage } from '../../api/client';
import { AnchorLink } from '../../components/links';

/** The reset link from the email lands here with `?token=`. */
export function ResetPasswordPage() {
  const { token } = useSearch({ from: '/access/reset-password' });
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [done, setDone] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (password !== confirm) {
      setError('The two passwords differ.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await auth.resetPassword(token ?? '', password);
      setDone(true);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={submit} aria-labelledby="reset-title">
      <Stack>
        <Title order={1} size="h3" id="reset-title">
          Choose a new password
        </Title>
        {!token && <Alert color="red">This link has no reset token: ask for a new one.</Alert>}
        {done ? (
          <Alert color="green" role="status">
            Your password was changed. Other sessions were signed out.
          </Alert>
        ) : (
          <>
            {error && (
              <Alert color="red" role="alert">
                {error}
              </Alert>
            )}
            <PasswordInput
              label="New password"
              description="At least 10 characters"
              minLength={10}
              required
              autoComplete="new-password"
              value={password}
              onChange={(e) => setPassword(e.currentTarget.value)}
            />
            <PasswordInput
              label="Repeat the new password"
              required
              autoComplete="new-password"
              value={confirm}
              onChange={(e) => setConfirm(e.currentTarget.value)}
            />
            <Button type="submit" loading={busy} disabled={!token}>
              Change password
            </Button>
          </>
        )}
        <AnchorLink to="/sign-in" search={{ next: undefined }} size="sm">
          Go to sign in
        </AnchorLink>
      </Stack>
    </form>
  );
}
