'use client';

import { useState } from 'react';
import { type GraphQLRequestError, toRequestError } from '@/lib/graphql-client';
import { useSession } from './session-gate';

/**
 * One request at a time for a form or a button: whether it is pending, and its typed error (an UNAUTHENTICATED
 * answer ends the session instead). `run` sends the request and hands its result to `onDone`.
 */
export function useSubmission() {
  const session = useSession();
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<GraphQLRequestError | null>(null);
  const run = <T>(request: () => Promise<T>, onDone: (result: T) => void = () => undefined) => {
    setPending(true);
    setError(null);
    request()
      .then(onDone)
      .catch((caught: unknown) => {
        const requestError = toRequestError(caught);
        if (!session.endIfUnauthenticated(requestError)) setError(requestError);
      })
      .finally(() => setPending(false));
  };
  return { pending, error, setError, run };
}
