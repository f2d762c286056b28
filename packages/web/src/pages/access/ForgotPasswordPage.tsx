import { Alert, Button, Stack, Text, TextInput, Title } from '@mantine/core';
import { type FormEvent, useState } from 'react';
import { auth } from '../../api/auth';
import { errorMessage } from '../../api/client';
import { AnchorLink } from '../../components/links';

export function ForgotPasswordPage() {
  const [email, setEmail] = useState('');
  const [sent, setSent] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await auth.requestReset(email);
      setSent(true);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={submit} aria-labelledby="forgot-title">
      <Stack>
        <Title order={1} size="h3" id="forgot-title">
          Reset your password
        </Title>
        {sent ? (
          <Alert color="green" role="status">
            If an account exists for {email}, we sent it a link to reset the password. It is valid for one hour.
            (Without SMTP, an admin finds the email in the hub's outbox.)
          </Alert>
        ) : (
          <>
            <Text size="sm" c="dimmed">
              We will email you a link to choose a new password.
            </Text>
            {error && (
              <Alert color="red" role="alert">
                {error}
              </Alert>
            )}
            <TextInput
              label="Email"
              type="email"
              required
              value={email}
              onChange={(e) => setEmail(e.currentTarget.value)}
            />
            <Button type="submit" loading={busy}>
              Send reset link
            </Button>
          </>
        )}
        <AnchorLink to="/sign-in" search={{ next: undefined }} size="sm">
          Back to sign in
        </AnchorLink>
      </Stack>
    </form>
  );
}
