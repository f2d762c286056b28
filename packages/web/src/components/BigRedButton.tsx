/**
 * The Big Red Button: one click (and a confirmation with a reason) stops every agent of the org; the
 * hub answers BLOCK to every evaluation until someone releases it.
 */

import type { ControlsState as Controls } from '@agentops-hub/contracts';
import { ActionIcon, Button, Group, Modal, Stack, Text, Textarea } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconPlayerPlay, IconPlayerStop } from '@tabler/icons-react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api } from '../api/client';
import { FormError } from './states';

export function BigRedButton({ controls }: { controls: Controls }) {
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState('');
  const qc = useQueryClient();
  const engaged = controls.kill_switch.engaged;
  const mutation = useMutation({
    mutationFn: () => api('/v1/controls/kill-switch', { method: 'POST', body: { engaged: !engaged, reason } }),
    onSuccess: () => {
      notifications.show({
        color: engaged ? 'green' : 'red',
        title: engaged ? 'Kill switch released' : 'All agents stopped',
        message: engaged ? 'Agents may act again.' : 'Every evaluation now answers BLOCK.',
      });
      setOpen(false);
      setReason('');
      qc.invalidateQueries({ queryKey: ['controls'] });
    },
  });

  return (
    <>
      {/* Laptop: a labelled button. Phone: the same action as an icon, so it never leaves the top bar. */}
      {engaged ? (
        <>
          <Button
            color="green"
            variant="light"
            leftSection={<IconPlayerPlay size={16} />}
            onClick={() => setOpen(true)}
            visibleFrom="sm"
          >
            Release agents
          </Button>
          <ActionIcon
            color="green"
            variant="light"
            size="lg"
            aria-label="Release agents"
            onClick={() => setOpen(true)}
            hiddenFrom="sm"
          >
            <IconPlayerPlay size={18} />
          </ActionIcon>
        </>
      ) : (
        <>
          <Button color="red" leftSection={<IconPlayerStop size={16} />} onClick={() => setOpen(true)} visibleFrom="sm">
            Stop all agents
          </Button>
          <ActionIcon color="red" size="lg" aria-label="Stop all agents" onClick={() => setOpen(true)} hiddenFrom="sm">
            <IconPlayerStop size={18} />
          </ActionIcon>
        </>
      )}
      <Modal
        opened={open}
        onClose={() => setOpen(false)}
        title={engaged ? 'Release the kill switch?' : 'Stop all agents now?'}
        centered
      >
        <form
          onSubmit={(e) => {
            e.preventDefault();
            mutation.mutate();
          }}
        >
          <Stack>
            <Text size="sm">
              {engaged
                ? 'Agents will be allowed to act again, within their policies.'
                : 'Every agent of this organization will be refused (BLOCK) on its next policy check, until someone releases the kill switch. This is recorded in the audit log.'}
            </Text>
            <Textarea
              label="Reason"
              required
              autosize
              minRows={2}
              value={reason}
              onChange={(e) => setReason(e.currentTarget.value)}
              data-autofocus
            />
            <FormError error={mutation.error} />
            <Group justify="flex-end">
              <Button variant="default" onClick={() => setOpen(false)}>
                Cancel
              </Button>
              <Button
                type="submit"
                color={engaged ? 'green' : 'red'}
                loading={mutation.isPending}
                disabled={!reason.trim()}
              >
                {engaged ? 'Release kill switch' : 'Engage kill switch'}
              </Button>
            </Group>
          </Stack>
        </form>
      </Modal>
    </>
  );
}
