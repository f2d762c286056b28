/** The signed-in person's security: two-factor enrolment with a QR code and a first code to confirm it. */
import {
  Alert,
  Badge,
  Button,
  Card,
  Code,
  Group,
  PasswordInput,
  PinInput,
  SimpleGrid,
  Stack,
  Text,
  Title,
} from '@mantine/core';
import { useQueryClient } from '@tanstack/react-query';
import { QRCodeSVG } from 'qrcode.react';
import { type FormEvent, useState } from 'react';
import { auth } from '../../api/auth';
import { errorMessage } from '../../api/client';
import { useMe } from '../../api/queries';
import { PageHeader } from '../../components/states';

export function SecurityPage() {
  const me = useMe();
  const qc = useQueryClient();
  const enabled = me.data?.user?.two_factor_enabled;
  const [password, setPassword] = useState('');
  const [enrol, setEnrol] = useState<{ totpURI: string; backupCodes: string[] } | null>(null);
  const [code, setCode] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(false);

  async function run(fn: () => Promise<void>) {
    setBusy(true);
    setError(null);
    try {
      await fn();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }
  const start = (e: FormEvent) => {
    e.preventDefault();
    run(async () => setEnrol(await auth.enableTwoFactor(password)));
  };
  const confirm = (e: FormEvent) => {
    e.preventDefault();
    run(async () => {
      await auth.verifyTotp(code);
      setDone(true);
      setEnrol(null);
      setPassword('');
      await qc.invalidateQueries({ queryKey: ['me'] });
    });
  };
  const disable = (e: FormEvent) => {
    e.preventDefault();
    run(async () => {
      await auth.disableTwoFactor(password);
      setPassword('');
      setDone(false);
      await qc.invalidateQueries({ queryKey: ['me'] });
    });
  };
  const secret = enrol ? new URL(enrol.totpURI).searchParams.get('secret') : null;

  return (
    <Stack maw={720}>
      <PageHeader title="Security" description={`Signed in as ${me.data?.user?.email ?? ''}`} />
      <Card withBorder>
        <Group justify="space-between" mb="sm">
          <Title order={2} size="h4">
            Two-factor authentication
          </Title>
          <Badge color={enabled ? 'teal' : 'gray'}>{enabled ? 'On' : 'Off'}</Badge>
        </Group>
        {error && (
          <Alert color="red" mb="sm" role="alert">
            {error}
          </Alert>
        )}
        {done && (
          <Alert color="teal" mb="sm">
            Two-factor authentication is on. Your next sign-in asks for a code.
          </Alert>
        )}
        {!enabled && !enrol && (
          <form onSubmit={start}>
            <Stack>
              <Text size="sm">
                Protect your account with an authenticator app (1Password, Google Authenticator, …). Confirm your
                password to start.
              </Text>
              <PasswordInput
                label="Password"
                required
                autoComplete="current-password"
                value={password}
                onChange={(e) => setPassword(e.currentTarget.value)}
                maw={320}
              />
              <Button type="submit" loading={busy} w="fit-content">
                Set up two-factor
              </Button>
            </Stack>
          </form>
        )}
        {enrol && (
          <form onSubmit={confirm}>
            <SimpleGrid cols={{ base: 1, sm: 2 }}>
              <Stack align="center">
                <div style={{ background: 'white', padding: 12, borderRadius: 8 }}>
                  <QRCodeSVG value={enrol.totpURI} size={180} title="QR code for your authenticator app" />
                </div>
                {secret && (
                  <Text size="xs" c="dimmed" ta="center">
                    Or type this key: <Code data-testid="totp-secret">{secret}</Code>
                  </Text>
                )}
              </Stack>
              <Stack>
                <Text size="sm">1. Scan the QR code with your authenticator app.</Text>
                <Text size="sm">2. Enter the 6-digit code it shows:</Text>
                <PinInput
                  length={6}
                  type="number"
                  oneTimeCode
                  aria-label="Code from the authenticator app"
                  value={code}
                  onChange={setCode}
                />
                <Button type="submit" loading={busy} disabled={code.length !== 6}>
                  Turn on two-factor
                </Button>
              </Stack>
            </SimpleGrid>
            <Text size="sm" fw={600} mt="md">
              Backup codes: keep them somewhere safe, each works once.
            </Text>
            <Code block>{enrol.backupCodes.join('\n')}</Code>
          </form>
        )}
        {enabled && (
          <form onSubmit={disable}>
            <Group align="flex-end">
              <PasswordInput
                label="Password"
                required
                autoComplete="current-password"
                value={password}
                onChange={(e) => setPassword(e.currentTarget.value)}
              />
              <Button type="submit" color="red" variant="light" loading={busy}>
                Turn off two-factor
              </Button>
            </Group>
          </form>
        )}
      </Card>
    </Stack>
  );
}
