'use client';

import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { useEffect, useState } from 'react';
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

/**
 * A list loaded once per session with `query` and taken out of its result by `pick`: null until it arrives, its
 * typed error if it does not (an UNAUTHENTICATED answer ends the session instead), and a setter for the page's
 * own changes.
 */
export function useLoadedList<TResult, TItem>(
  query: TypedDocumentNode<TResult, Record<string, never>>,
  pick: (result: TResult) => TItem[],
) {
  const session = useSession();
  const [items, setItems] = useState<TItem[] | null>(null);
  const [error, setError] = useState<GraphQLRequestError | null>(null);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `pick` is a selector; the list is loaded once per session and query
  useEffect(() => {
    const controller = new AbortController();
    session
      .request(query, {}, controller.signal)
      .then((result) => setItems(pick(result)))
      .catch((caught: unknown) => {
        if (controller.signal.aborted || session.endIfUnauthenticated(caught)) return;
        setError(toRequestError(caught));
      });
    return () => controller.abort();
  }, [session, query]);
  return { items, setItems, error };
}
