'use client';

import { Button, type ButtonProps, Group, Modal, Text } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import type { ReactNode } from 'react';

/**
 * A button for an action that cannot be undone: it asks first, in a dialog that says what will happen, and runs
 * `onConfirm` only on the dialog's own button.
 */
export function ConfirmButton({
  children,
  title,
  message,
  confirmLabel,
  onConfirm,
  loading,
  ariaLabel,
  testId,
  ...buttonProps
}: {
  children: ReactNode;
  title: string;
  message: ReactNode;
  confirmLabel: string;
  onConfirm: () => void;
  loading?: boolean;
  ariaLabel?: string;
  testId?: string;
} & Omit<ButtonProps, 'children' | 'loading'>) {
  const [isOpen, { open, close }] = useDisclosure(false);
  return (
    <>
      <Button {...buttonProps} loading={loading} onClick={open} aria-label={ariaLabel} data-testid={testId}>
        {children}
      </Button>
      <Modal opened={isOpen} onClose={close} title={title} centered>
        <Text size="sm" mb="md">
          {message}
        </Text>
        <Group justify="flex-end">
          <Button variant="default" onClick={close}>
            Keep it
          </Button>
          <Button
            color="red.9"
            onClick={() => {
              close();
              onConfirm();
            }}
          >
            {confirmLabel}
          </Button>
        </Group>
      </Modal>
    </>
  );
}
