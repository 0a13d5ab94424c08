'use client';

import { useRouter } from 'next/navigation';
import { type FormEvent, useState } from 'react';
import { storeApiKey } from '@/lib/api-key-storage';
import { browserApiEndpoints } from '@/lib/api-url';
import { executeGraphQL, hasErrorCode, toRequestError } from '@/lib/graphql-client';
import { VIEWER_QUERY } from '@/lib/operations';
import type { ViewerQueryResult } from '@/lib/types';
import { disposeLiveConnections } from '@/lib/ws-client';
import { useConfiguredApiUrl } from './api-config-provider';

export function LoginForm() {
  const router = useRouter();
  const configuredApiUrl = useConfiguredApiUrl();
  const [isSubmitting, setIsSubmitting] = useState(false);
  const [errorMessage, setErrorMessage] = useState<string | null>(null);

  const onSubmit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (isSubmitting) return;
    const apiKey = String(new FormData(event.currentTarget).get('apiKey') ?? '').trim();
    if (!apiKey) {
      setErrorMessage('Enter an API key.');
      return;
    }
    setIsSubmitting(true);
    setErrorMessage(null);
    try {
      // The key is only kept once the API has accepted it.
      await executeGraphQL<ViewerQueryResult>(browserApiEndpoints(configuredApiUrl).httpUrl, apiKey, {
        query: VIEWER_QUERY,
      });
      disposeLiveConnections();
      storeApiKey(apiKey);
      router.replace('/jobs');
    } catch (error) {
      const requestError = toRequestError(error);
      setErrorMessage(
        hasErrorCode(requestError, 'UNAUTHENTICATED')
          ? `The API key was not accepted: ${requestError.message}`
          : requestError.message,
      );
      setIsSubmitting(false);
    }
  };

  return (
    <form
      className="login-form"
      onSubmit={onSubmit}
      noValidate
      aria-describedby={errorMessage ? 'login-error' : undefined}
    >
      <div className="field">
        <label htmlFor="apiKey">API key</label>
        <input
          id="apiKey"
          name="apiKey"
          type="text"
          autoComplete="off"
          autoCapitalize="off"
          spellCheck={false}
          required
          aria-invalid={errorMessage ? true : undefined}
          aria-describedby="apiKey-hint"
          placeholder="ek_…"
          className="input"
        />
        <p id="apiKey-hint" className="field__hint">
          An API key or session token issued for your identity.
        </p>
      </div>
      {errorMessage ? (
        <p id="login-error" className="notice notice--error" role="alert" data-testid="login-error">
          {errorMessage}
        </p>
      ) : null}
      <button type="submit" className="button button--block" disabled={isSubmitting} aria-busy={isSubmitting}>
        Sign in
      </button>
    </form>
  );
}
