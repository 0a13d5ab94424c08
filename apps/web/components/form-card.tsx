'use client';

import { Alert, Button, Group, Paper, Stack, Title } from '@mantine/core';
import type { FormEvent, ReactNode } from 'react';
import type { GraphQLRequestError } from '@/lib/graphql-client';
import { ErrorNotice } from './error-notice';

/**
 * A form in a card: its heading, its fields, then what the page found wrong (`problem`, checked before sending),
 * what the API refused (`error`, in plain words), what it did (`outcome`), and the submit button.
 */
export function FormCard({
  title,
  headingId,
  testId,
  onSubmit,
  problem,
  error,
  errorTitle,
  outcome,
  submitLabel,
  pending,
  children,
}: {
  title: string;
  headingId: string;
  /** Test ids of the form and of its two kinds of message. */
  testId: { form: string; problem: string; error: string };
  onSubmit: (event: FormEvent<HTMLFormElement>) => void;
  problem: string | null;
  error: GraphQLRequestError | null;
  errorTitle: string;
  outcome?: ReactNode;
  submitLabel: string;
  pending: boolean;
  children: ReactNode;
}) {
  return (
    <Paper
      withBorder
      p="md"
      mt="md"
      component="form"
      onSubmit={onSubmit}
      noValidate
      aria-labelledby={headingId}
      data-testid={testId.form}
    >
      <Stack>
        <Title order={3} size="h4" id={headingId}>
          {title}
        </Title>
        {children}
        {problem ? (
          <Alert color="red" role="alert" data-testid={testId.problem}>
            {problem}
          </Alert>
        ) : null}
        {error ? <ErrorNotice error={error} title={errorTitle} testId={testId.error} /> : null}
        {outcome}
        <Group>
          <Button type="submit" loading={pending}>
            {submitLabel}
          </Button>
        </Group>
      </Stack>
    </Paper>
  );
}
