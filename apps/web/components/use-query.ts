'use client';

import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { useCallback, useEffect, useState } from 'react';
import { type GraphQLRequestError, toRequestError } from '@/lib/graphql-client';
import { useSession } from './session-gate';

/**
 * One typed query, loaded when the view mounts and again on `reload()`: its data, or its typed error (an
 * UNAUTHENTICATED answer ends the session instead). `variables` are compared by value.
 */
export function useQuery<TData, TVariables extends Record<string, unknown>>(
  document: TypedDocumentNode<TData, TVariables>,
  variables: TVariables,
  options: { skip?: boolean } = {},
) {
  const session = useSession();
  const [data, setData] = useState<TData | null>(null);
  const [error, setError] = useState<GraphQLRequestError | null>(null);
  const [generation, setGeneration] = useState(0);
  const key = JSON.stringify(variables);
  const reload = useCallback(() => setGeneration((n) => n + 1), []);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` stands for `variables`; `generation` is the reload trigger
  useEffect(() => {
    if (options.skip) return;
    const controller = new AbortController();
    session
      .request(document, JSON.parse(key) as TVariables, controller.signal)
      .then((result) => {
        setData(result);
        setError(null);
      })
      .catch((caught: unknown) => {
        if (controller.signal.aborted || session.endIfUnauthenticated(caught)) return;
        setError(toRequestError(caught));
      });
    return () => controller.abort();
  }, [session, document, key, generation, options.skip]);
  return { data, error, reload, isLoading: data === null && error === null && !options.skip };
}
