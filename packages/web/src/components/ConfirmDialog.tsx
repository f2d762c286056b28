/**
 * The question a destructive button asks before it acts ("Delete this webhook?"): what will happen, the
 * hub's refusal if it refuses (the dialog stays open on it), Cancel, and the action itself, which shows
 * it is working until the hub answers. Every delete, revoke and remove of the console asks through it.
 *
 * @example
 * <ConfirmDialog opened={Boolean(deleting)} onClose={() => setDeleting(null)} title="Delete this team?"
 *   confirmLabel="Delete team" pending={remove.isPending} error={remove.error}
 *   onConfirm={() => deleting && remove.mutate(deleting.id)}>
 *   <b>{deleting?.name}</b> is removed.
 * </ConfirmDialog>
 */
import { Button, Group, Modal, Stack, Text } from '@mantine/core';
import type { ReactNode } from 'react';
import { FormError } from './states';

export function ConfirmDialog({
  opened,
  onClose,
  title,
  children,
  confirmLabel,
  onConfirm,
  pending,
  error,
}: {
  opened: boolean;
  onClose: () => void;
  title: string;
  /** What happens once confirmed, in a sentence or two. */
  children: ReactNode;
  /** The action's own words ("Revoke key"), never a bare "OK". */
  confirmLabel: string;
  onConfirm: () => void;
  pending: boolean;
  error: unknown;
}) {
  return (
    <Modal opened={opened} onClose={onClose} title={title} centered>
      <Stack>
        <Text size="sm">{children}</Text>
        <FormError error={error} />
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button color="red" loading={pending} onClick={onConfirm}>
            {confirmLabel}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
