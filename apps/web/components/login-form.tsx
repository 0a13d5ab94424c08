'use client';

import { Alert, Button, PasswordInput, Stack, Text } from '@mantine/core';
import { useRouter } from 'next/navigation';
import { type FormEvent, useState } from 'react';
import { browserApiEndpoints } from '@/lib/api-url';
import { type GraphQLRequestError, hasErrorCode, plainMessage, toRequestError } from '@/lib/graphql-client';
import { openSession } from '@/lib/session-api';
import { disposeLiveConnections } from '@/lib/ws-client';
import { useConfiguredApiUrl } from './api-config-provider';

/**
 * The key is typed into a masked field and sent once, to POST /session; the API answers with an httpOnly cookie.
 * Nothing is written to the browser's storage.
 */
export function LoginForm() {
  const router = useRouter();
  const configuredApiUrl = useConfiguredApiUrl();
  const [isSubmitting, setIsSubmitting] = useState(false);
  const [error, setError] = useState<{ message: string; detail?: GraphQLRequestError } | null>(null);

  const onSubmit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (isSubmitting) return;
    const form = event.currentTarget;
    const apiKey = String(new FormData(form).get('apiKey') ?? '').trim();
    if (!apiKey) {
      setError({ message: 'Enter an API key.' });
      return;
    }
    setIsSubmitting(true);
    setError(null);
    try {
      await openSession(browserApiEndpoints(configuredApiUrl).baseUrl, apiKey);
      form.reset();
      disposeLiveConnections();
      router.replace('/');
    } catch (caught) {
      const requestError = toRequestError(caught);
      setError({
        message: hasErrorCode(requestError, 'UNAUTHENTICATED')
          ? 'The API key was not accepted. Check that it was copied whole and has not been revoked.'
          : hasErrorCode(requestError, 'BAD_USER_INPUT')
            ? plainMessage(requestError)
            : plainMessage(requestError),
        detail: requestError,
      });
      setIsSubmitting(false);
    }
  };

  return (
    <form className="login-form" onSubmit={onSubmit} noValidate>
      <Stack>
        <PasswordInput
          id="apiKey"
          name="apiKey"
          label="API key"
          description="An API key issued for your identity. It is exchanged for a session; the browser does not keep it."
          autoComplete="off"
          spellCheck={false}
          required
          placeholder="ech_…"
          error={error ? true : undefined}
        />
        {error ? (
          <Alert color="red" role="alert" data-testid="login-error" title="Not signed in">
            <Text size="sm">{error.message}</Text>
            {error.detail ? (
              <Text size="xs" mt={4}>
                Detail: {error.detail.code} — {error.detail.message}
              </Text>
            ) : null}
          </Alert>
        ) : null}
        <Button type="submit" fullWidth loading={isSubmitting} disabled={isSubmitting}>
          Sign in
        </Button>
      </Stack>
    </form>
  );
}
