import { Alert, Anchor, Button, Checkbox, PinInput, Stack, Text, TextInput, Title } from '@mantine/core';
import { useQueryClient } from '@tanstack/react-query';
import { useNavigate, useSearch } from '@tanstack/react-router';
import { type FormEvent, useState } from 'react';
import { auth } from '../../api/auth';
import { errorMessage } from '../../api/client';
import { AnchorLink } from '../../components/links';

/** The second step of a sign-in for accounts with 2FA: a code from the authenticator app, or a backup code. */
export function TwoFactorPage() {
  const { next } = useSearch({ from: '/access/two-factor' });
  const navigate = useNavigate();
  const qc = useQueryClient();
  const [code, setCode] = useState('');
  const [backup, setBackup] = useState(false);
  const [trust, setTrust] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e?: FormEvent) {
    e?.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (backup) await auth.verifyBackupCode(code.trim());
      else await auth.verifyTotp(code, trust);
      await qc.resetQueries();
      await navigate({ href: next ?? '/' });
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={submit} aria-labelledby="tf-title">
      <Stack>
        <Title order={1} size="h3" id="tf-title">
          Two-factor authentication
        </Title>
        <Text size="sm" c="dimmed">
          {backup ? 'Enter one of your backup codes.' : 'Enter the 6-digit code from your authenticator app.'}
        </Text>
        {error && (
          <Alert color="red" role="alert">
            {error}
          </Alert>
        )}
        {backup ? (
          <TextInput label="Backup code" required value={code} onChange={(e) => setCode(e.currentTarget.value)} />
        ) : (
          <PinInput
            length={6}
            type="number"
            oneTimeCode
            aria-label="Authentication code"
            value={code}
            onChange={setCode}
            autoFocus
          />
        )}
        {!backup && (
          <Checkbox
            label="Trust this device for 30 days"
            checked={trust}
            onChange={(e) => setTrust(e.currentTarget.checked)}
          />
        )}
        <Button type="submit" loading={busy} disabled={!backup && code.length !== 6}>
          Verify
        </Button>
        <Anchor component="button" type="button" size="sm" onClick={() => setBackup((b) => !b)}>
          {backup ? 'Use the authenticator app' : 'Use a backup code instead'}
        </Anchor>
        <AnchorLink to="/sign-in" search={{ next }} size="sm">
          Back to sign in
        </AnchorLink>
      </Stack>
    </form>
  );
}
