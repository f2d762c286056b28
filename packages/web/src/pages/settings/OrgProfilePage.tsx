/**
 * Organization profile: name, logo, time zone, locale, industry, billing contact and the org-wide
 * switches (`PATCH /v1/org`). People without `org:update` see it read-only.
 */

import type { Org } from '@agentops-hub/contracts';
import { Alert, Avatar, Button, Card, Group, Select, Stack, Switch, Text, TextInput } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useEffect, useMemo, useState } from 'react';
import { api } from '../../api/client';
import { ErrorState, FormError, Loading, PageHeader } from '../../components/states';
import { dateTime } from '../../lib/format';
import { usePermissions } from '../../lib/permissions';
import { timeZones } from '../../lib/time-zones';

const LOCALES = [
  { value: 'en-US', label: 'English (United States)' },
  { value: 'en-GB', label: 'English (United Kingdom)' },
  { value: 'fr-FR', label: 'Français (France)' },
  { value: 'de-DE', label: 'Deutsch (Deutschland)' },
  { value: 'es-ES', label: 'Español (España)' },
  { value: 'it-IT', label: 'Italiano (Italia)' },
  { value: 'pt-BR', label: 'Português (Brasil)' },
  { value: 'nl-NL', label: 'Nederlands (Nederland)' },
  { value: 'ja-JP', label: '日本語 (日本)' },
];

const INDUSTRIES = [
  { value: 'saas', label: 'Software / SaaS' },
  { value: 'ecommerce', label: 'E-commerce' },
  { value: 'retail', label: 'Retail' },
  { value: 'fintech', label: 'Fintech' },
  { value: 'healthcare', label: 'Healthcare' },
  { value: 'agency', label: 'Agency' },
  { value: 'marketing', label: 'Marketing' },
  { value: 'services', label: 'Professional services' },
  { value: 'education', label: 'Education' },
  { value: 'other', label: 'Other' },
];

export function OrgProfilePage() {
  const { can } = usePermissions();
  const org = useQuery({ queryKey: ['org'], queryFn: () => api<Org>('/v1/org') });
  if (org.isPending) return <Loading />;
  if (org.error) return <ErrorState error={org.error} retry={() => org.refetch()} />;
  return (
    <Stack>
      <PageHeader title="Organization" description="Your organization's profile and org-wide settings." />
      <OrgForm org={org.data} editable={can('org:update')} />
    </Stack>
  );
}

function OrgForm({ org, editable }: { org: Org; editable: boolean }) {
  const qc = useQueryClient();
  const [name, setName] = useState(org.name);
  const [logoUrl, setLogoUrl] = useState(org.logo_url ?? '');
  const [timezone, setTimezone] = useState(org.timezone);
  const [locale, setLocale] = useState(org.locale);
  const [industry, setIndustry] = useState<string | null>(org.industry);
  const [billingEmail, setBillingEmail] = useState(org.billing_email ?? '');
  const [autoRegister, setAutoRegister] = useState(org.settings.auto_register_agents);
  const [defaultDeny, setDefaultDeny] = useState(org.settings.default_deny);
  const zones = useMemo(() => timeZones(org.timezone), [org.timezone]);
  useEffect(() => setName(org.name), [org.name]);

  const save = useMutation({
    mutationFn: () =>
      api<Org>('/v1/org', {
        method: 'PATCH',
        body: {
          name: name.trim(),
          logo_url: logoUrl.trim() || null,
          timezone,
          locale,
          industry: industry || null,
          billing_email: billingEmail.trim() || null,
          settings: { auto_register_agents: autoRegister, default_deny: defaultDeny },
        },
      }),
    onSuccess: (o) => {
      qc.setQueryData(['org'], o);
      qc.invalidateQueries({ queryKey: ['me'] });
      notifications.show({ color: 'teal', message: 'Organization saved.' });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  const industries =
    industry && !INDUSTRIES.some((i) => i.value === industry)
      ? [...INDUSTRIES, { value: industry, label: industry }]
      : INDUSTRIES;

  return (
    <form onSubmit={submit}>
      <Stack>
        {!editable && (
          <Alert color="gray" title="Read only">
            Your role can see these settings but not change them.
          </Alert>
        )}
        <Card withBorder>
          <Stack>
            <Group align="flex-end" wrap="nowrap">
              <Avatar src={logoUrl || null} alt={`${name} logo`} size="lg" radius="md">
                {name.slice(0, 2).toUpperCase()}
              </Avatar>
              <TextInput
                label="Name"
                required
                style={{ flex: 1 }}
                value={name}
                onChange={(e) => setName(e.currentTarget.value)}
                disabled={!editable}
              />
            </Group>
            <TextInput
              label="Logo URL"
              description="An https:// image; shown in the header and in reports"
              placeholder="https://example.com/logo.png"
              type="url"
              value={logoUrl}
              onChange={(e) => setLogoUrl(e.currentTarget.value)}
              disabled={!editable}
            />
            <Group grow align="flex-start">
              <Select
                label="Time zone"
                description="Days, weeks and months of costs, budgets and reports follow it"
                searchable
                data={zones}
                value={timezone}
                onChange={(v) => setTimezone(v ?? timezone)}
                allowDeselect={false}
                disabled={!editable}
              />
              <Select
                label="Locale"
                description="Dates and numbers in emails and reports"
                searchable
                data={
                  LOCALES.some((l) => l.value === locale) ? LOCALES : [...LOCALES, { value: locale, label: locale }]
                }
                value={locale}
                onChange={(v) => setLocale(v ?? locale)}
                allowDeselect={false}
                disabled={!editable}
              />
            </Group>
            <Group grow align="flex-start">
              <Select
                label="Industry"
                description="Used to recommend policy packs"
                placeholder="Not set"
                clearable
                data={industries}
                value={industry}
                onChange={setIndustry}
                disabled={!editable}
              />
              <TextInput
                label="Billing contact"
                description="Who receives invoices and plan notices"
                type="email"
                placeholder="billing@example.com"
                value={billingEmail}
                onChange={(e) => setBillingEmail(e.currentTarget.value)}
                disabled={!editable}
              />
            </Group>
          </Stack>
        </Card>
        <Card withBorder>
          <Stack>
            <Switch
              label="Register agents automatically"
              description="An agent that reports a run under a new name is added to the registry. Off: unknown agents are refused."
              checked={autoRegister}
              onChange={(e) => setAutoRegister(e.currentTarget.checked)}
              disabled={!editable}
            />
            <Switch
              label="Deny by default"
              description="An action that no policy matches is blocked. Off: it is allowed."
              checked={defaultDeny}
              onChange={(e) => setDefaultDeny(e.currentTarget.checked)}
              disabled={!editable}
            />
          </Stack>
        </Card>
        <Text size="xs" c="dimmed">
          Organization {org.id} · plan {org.plan} · region {org.region} · created {dateTime(org.created_at)}
        </Text>
        <FormError error={save.error} />
        {editable && (
          <Group>
            <Button type="submit" loading={save.isPending} disabled={!name.trim()}>
              Save changes
            </Button>
          </Group>
        )}
      </Stack>
    </form>
  );
}
