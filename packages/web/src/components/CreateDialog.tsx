/**
 * The dialog every "New …" button opens: centred on a laptop, full screen on a phone (a form in a small
 * floating box under a phone's keyboard is hard to use). The form inside owns its fields and buttons.
 *
 * @example
 * <CreateDialog opened={open} onClose={() => setOpen(false)} title="New budget"><BudgetForm … /></CreateDialog>
 */
import { Modal } from '@mantine/core';
import { useMediaQuery } from '@mantine/hooks';
import type { ReactNode } from 'react';
import { PHONE_QUERY } from './DataTable';

export function CreateDialog({
  opened,
  onClose,
  title,
  size,
  children,
}: {
  opened: boolean;
  onClose: () => void;
  title: string;
  size?: 'md' | 'lg';
  children: ReactNode;
}) {
  const phone = useMediaQuery(PHONE_QUERY);
  return (
    <Modal opened={opened} onClose={onClose} title={title} centered size={size} fullScreen={Boolean(phone)}>
      {children}
    </Modal>
  );
}
