/**
 * A feature the org's plan does not include, shown locked with the hub's own sentence (the 402
 * `plan_feature_unavailable` detail: the feature, the org's plan and the plan that has it) and a link to
 * the plan page. Pages render it in place of the feature's content instead of an error, and keep their
 * title, so a person sees the feature exists and what brings it; `planLockOf(error)` (api/client.ts)
 * gives the sentence.
 *
 * @example
 * const locked = planLockOf(reports.error);
 * {locked ? <LockedFeature feature="Reports" sentence={locked} /> : <QueryStatus query={reports} />}
 */
import { Card, Group, Stack, Text, ThemeIcon } from '@mantine/core';
import { IconLock } from '@tabler/icons-react';
import { AnchorLink } from './links';

export function LockedFeature({
  feature,
  sentence,
  bordered = true,
}: {
  /** The feature's name, for the panel's label ("Budgets"). */
  feature: string;
  /** The hub's sentence, as it answered. */
  sentence: string;
  /** False inside a card that already has a border (a panel of a page). */
  bordered?: boolean;
}) {
  return (
    <Card
      withBorder={bordered}
      padding={bordered ? 'lg' : 0}
      role="region"
      aria-label={`${feature} is locked`}
      data-testid="locked-feature"
    >
      <Group wrap="nowrap" align="flex-start" gap="md">
        <ThemeIcon variant="light" color="violet" size="lg" radius="xl" aria-hidden>
          <IconLock size={18} />
        </ThemeIcon>
        <Stack gap={4}>
          <Text fw={600}>Not included in your plan</Text>
          <Text size="sm">{sentence}</Text>
          <AnchorLink to="/settings/plan" size="sm">
            See what your plan includes
          </AnchorLink>
        </Stack>
      </Group>
    </Card>
  );
}
