'use client';

import { useRouter } from 'next/navigation';
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useRef, useState } from 'react';
import { API_KEY_STORAGE_KEY, clearStoredApiKey, readStoredApiKey } from '@/lib/api-key-storage';
import { type ApiEndpoints, browserApiEndpoints } from '@/lib/api-url';
import { executeGraphQL, type GraphQLRequestError, hasErrorCode, toRequestError } from '@/lib/graphql-client';
import { VIEWER_QUERY } from '@/lib/operations';
import type { ViewerQueryResult, ViewerSummary } from '@/lib/types';
import { disposeLiveConnections, getLiveConnection, type LiveConnection } from '@/lib/ws-client';
import { useConfiguredApiUrl } from './api-config-provider';
import { AppHeader } from './app-header';

export interface Session {
  readonly apiKey: string;
  readonly viewer: ViewerSummary;
  readonly endpoints: ApiEndpoints;
  /** The shared graphql-ws connection of this session. */
  readonly live: LiveConnection;
  /** GraphQL over HTTP with this session's key; an UNAUTHENTICATED answer ends the session. */
  request<TData, TVariables extends Record<string, unknown> = Record<string, never>>(
    query: string,
    variables?: TVariables,
    signal?: AbortSignal,
  ): Promise<TData>;
  /** Ends the session when `error` says the key is no longer accepted. Returns true when it did. */
  endIfUnauthenticated(error: unknown): boolean;
  signOut(): void;
}

const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession() must be used inside <SessionGate>.');
  return session;
}

type GateState =
  | { status: 'checking' }
  | { status: 'ready'; apiKey: string; viewer: ViewerSummary; endpoints: ApiEndpoints }
  | { status: 'failed'; error: GraphQLRequestError }
  | { status: 'leaving' };

const LOGIN_PATH = '/login';

/**
 * Wraps every signed-in page: no stored key, or a key the API answers UNAUTHENTICATED to, sends the browser to
 * /login. Children render only once the viewer is known, so they can rely on `useSession()`.
 */
export function SessionGate({ children }: { children: ReactNode }) {
  const router = useRouter();
  // Held in a ref so that a router object that changes identity never re-runs the session check.
  const routerRef = useRef(router);
  useEffect(() => {
    routerRef.current = router;
  }, [router]);
  const configuredApiUrl = useConfiguredApiUrl();
  const [state, setState] = useState<GateState>({ status: 'checking' });
  const [attempt, setAttempt] = useState(0);

  const leave = useCallback((apiKey: string | null) => {
    setState({ status: 'leaving' });
    clearStoredApiKey();
    if (apiKey) disposeLiveConnections(apiKey);
    routerRef.current.replace(LOGIN_PATH);
  }, []);

  // biome-ignore lint/correctness/useExhaustiveDependencies: `attempt` is the "Try again" trigger, not an input
  useEffect(() => {
    const apiKey = readStoredApiKey();
    if (!apiKey) {
      leave(null);
      return;
    }
    const controller = new AbortController();
    const endpoints = browserApiEndpoints(configuredApiUrl);
    setState({ status: 'checking' });
    executeGraphQL<ViewerQueryResult>(endpoints.httpUrl, apiKey, { query: VIEWER_QUERY }, controller.signal)
      .then((result) => setState({ status: 'ready', apiKey, viewer: result.viewer, endpoints }))
      .catch((error: unknown) => {
        if (controller.signal.aborted) return;
        if (hasErrorCode(error, 'UNAUTHENTICATED')) {
          leave(apiKey);
          return;
        }
        setState({ status: 'failed', error: toRequestError(error) });
      });
    return () => controller.abort();
  }, [configuredApiUrl, leave, attempt]);

  // Signing out in another tab signs out here too.
  useEffect(() => {
    const onStorage = (event: StorageEvent) => {
      if (event.key === API_KEY_STORAGE_KEY && !event.newValue) leave(null);
      if (event.key === null) leave(null);
    };
    window.addEventListener('storage', onStorage);
    return () => window.removeEventListener('storage', onStorage);
  }, [leave]);

  const session = useMemo<Session | null>(() => {
    if (state.status !== 'ready') return null;
    const { apiKey, viewer, endpoints } = state;
    const endIfUnauthenticated = (error: unknown) => {
      if (!hasErrorCode(error, 'UNAUTHENTICATED')) return false;
      leave(apiKey);
      return true;
    };
    return {
      apiKey,
      viewer,
      endpoints,
      live: getLiveConnection(endpoints.wsUrl, apiKey),
      async request<TData, TVariables extends Record<string, unknown> = Record<string, never>>(
        query: string,
        variables?: TVariables,
        signal?: AbortSignal,
      ): Promise<TData> {
        try {
          return await executeGraphQL<TData, TVariables>(endpoints.httpUrl, apiKey, { query, variables }, signal);
        } catch (error) {
          endIfUnauthenticated(error);
          throw error;
        }
      },
      endIfUnauthenticated,
      signOut: () => leave(apiKey),
    };
  }, [state, leave]);

  if (state.status === 'failed') {
    return (
      <main className="page page--narrow">
        <div className="card">
          <h1>Cannot load your session</h1>
          <p className="notice notice--error" role="alert" data-testid="session-error">
            {state.error.message}
          </p>
          <div className="actions">
            <button type="button" className="button" onClick={() => setAttempt((n) => n + 1)}>
              Try again
            </button>
            <button type="button" className="button button--secondary" onClick={() => leave(null)}>
              Sign in with another key
            </button>
          </div>
        </div>
      </main>
    );
  }

  if (!session) {
    return (
      <main className="page page--narrow" aria-busy="true">
        <p className="loading">{state.status === 'leaving' ? 'Redirecting to sign in…' : 'Checking your session…'}</p>
      </main>
    );
  }

  return (
    <SessionContext.Provider value={session}>
      <AppHeader viewer={session.viewer} onSignOut={session.signOut} />
      <main className="page" id="main">
        {children}
      </main>
    </SessionContext.Provider>
  );
}
