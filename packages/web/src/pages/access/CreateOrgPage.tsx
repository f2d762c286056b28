import { Alert, Button, Select, Stack, Text, TextInput, Title } from '@mantine/core';
import { useQueryClient } from '@tanstack/react-query';
import { useNavigate } from '@tanstack/react-router';
import { type FormEvent, useState } from 'react';
import { api, errorMessage } from '../../api/client';

const INDUSTRIES = ['saas', 'ecommerce', 'fintech', 'healthcare', 'agency', 'other'];

/** A signed-in person without an organization (or one more) creates it here; they become its owner. */
export function CreateOrgPage() {
  const navigate = useNavigate();
  const qc = useQueryClient();
  const [name, setName] = useState('');
  const [industry, setIndustry] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const org = await api<{ id: string }>('/v1/orgs', {
        method: 'POST',
        body: { name, ...(industry ? { industry } : {}) },
      });
      await api(`/v1/orgs/${org.id}/activate`, { method: 'POST' });
      await qc.resetQueries();
      await navigate({ to: '/onboarding' });
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={submit} aria-labelledby="org-title">
      <Stack>
        <Title order={1} size="h3" id="org-title">
          Create your organization
        </Title>
        <Text size="sm" c="dimmed">
          Agents, policies and people belong to an organization. You will be its owner.
        </Text>
        {error && (
          <Alert color="red" role="alert">
            {error}
          </Alert>
        )}
        <TextInput label="Organization name" required value={name} onChange={(e) => setName(e.currentTarget.value)} />
        <Select label="Industry (optional)" data={INDUSTRIES} value={industry} onChange={setIndustry} clearable />
        <Button type="submit" loading={busy}>
          Create organization
        </Button>
      </Stack>
    </form>
  );
}
