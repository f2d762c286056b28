import { Alert, Button, Group, Stack, Text, Title } from '@mantine/core';
import { useQueryClient } from '@tanstack/react-query';
import { useNavigate, useSearch } from '@tanstack/react-router';
import { useState } from 'react';
import { ApiError, api, errorMessage } from '../../api/client';
import { useMe } from '../../api/queries';
import { ButtonLink } from '../../components/links';
import { Loading } from '../../components/states';

/**
 * The link from an invitation email: `/invitations/accept?token=…`. Accepting needs to be signed in as
 * the invited email, so a visitor first signs up (or in) and comes back here.
 */
export function AcceptInvitationPage() {
  const { token } = useSearch({ from: '/access/invitations/accept' });
  const me = useMe();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const here = `/invitations/accept?token=${encodeURIComponent(token ?? '')}`;

  if (!token) return <Alert color="red">This invitation link has no token.</Alert>;
  if (me.isPending) return <Loading />;
  const signedOut = me.error instanceof ApiError && me.error.status === 401;

  async function decide(accept: boolean) {
    setBusy(true);
    setError(null);
    try {
      const res = await api<{ org_id?: string; org?: { id: string } }>(
        `/v1/invitations/${accept ? 'accept' : 'decline'}`,
        { method: 'POST', body: { token } },
      );
      const orgId = res?.org_id ?? res?.org?.id;
      if (accept && orgId) await api(`/v1/orgs/${orgId}/activate`, { method: 'POST' }).catch(() => undefined);
      await qc.resetQueries();
      await navigate({ to: accept ? '/' : '/sign-in', search: accept ? undefined : { next: undefined } });
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Stack>
      <Title order={1} size="h3">
        You are invited
      </Title>
      {error && (
        <Alert color="red" role="alert">
          {error}
        </Alert>
      )}
      {signedOut ? (
        <>
          <Text size="sm">Create an account with the invited email address, or sign in, to join the organization.</Text>
          <Group>
            <ButtonLink to="/sign-up" search={{ next: here, email: undefined }}>
              Create account
            </ButtonLink>
            <ButtonLink to="/sign-in" search={{ next: here }} variant="default">
              Sign in
            </ButtonLink>
          </Group>
        </>
      ) : (
        <>
          <Text size="sm">
            Signed in as <b>{me.data?.user?.email}</b>. Join the organization that invited you?
          </Text>
          <Group>
            <Button onClick={() => decide(true)} loading={busy}>
              Accept invitation
            </Button>
            <Button variant="default" onClick={() => decide(false)} disabled={busy}>
              Decline
            </Button>
          </Group>
        </>
      )}
    </Stack>
  );
}
