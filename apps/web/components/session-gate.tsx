'use client';

import { Alert, Button, Group, Loader, Stack, Text, Title } from '@mantine/core';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { useRouter } from 'next/navigation';
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useRef, useState } from 'react';
import type { Client } from 'urql';
import { type ApiEndpoints, browserApiEndpoints } from '@/lib/api-url';
import { type GraphQLRequestError, hasErrorCode, plainMessage, toRequestError } from '@/lib/graphql-client';
import { VIEWER_QUERY } from '@/lib/operations';
import type { Permission } from '@/lib/permissions';
import { closeSession, readSession } from '@/lib/session-api';
import { createConsoleClient, runOperation } from '@/lib/urql-client';
import type { ViewerSummary } from '@/lib/view-types';
import { disposeLiveConnections, getLiveConnection, type LiveConnection } from '@/lib/ws-client';
import { useConfiguredApiUrl } from './api-config-provider';
import { AppHeader } from './app-header';

export interface Session {
  readonly viewer: ViewerSummary;
  readonly endpoints: ApiEndpoints;
  /** The urql client of this session (cookie + CSRF token). */
  readonly client: Client;
  /** The shared graphql-ws connection of this session. */
  readonly live: LiveConnection;
  /** Whether the viewer's roles hold `permission` (as the API reports them in `viewer.permissions`). */
  can(permission: Permission): boolean;
  /** One typed query or mutation; an UNAUTHENTICATED answer ends the session. */
  request<TData, TVariables extends Record<string, unknown>>(
    document: TypedDocumentNode<TData, TVariables>,
    variables?: TVariables,
    signal?: AbortSignal,
  ): Promise<TData>;
  /** Ends the session when `error` says the API no longer accepts it. Returns true when it did. */
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
  | { status: 'ready'; csrfToken: string; viewer: ViewerSummary; endpoints: ApiEndpoints; client: Client }
  | { status: 'failed'; error: GraphQLRequestError }
  | { status: 'leaving' };

const LOGIN_PATH = '/login';

/**
 * Wraps every signed-in page: no session cookie, or one the API no longer accepts, sends the browser to /login.
 * The CSRF token is asked for again on every load (GET /session) and kept in memory only. Children render once the
 * viewer is known, so they can rely on `useSession()`.
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

  const leave = useCallback((csrfToken: string | null) => {
    setState({ status: 'leaving' });
    if (csrfToken) disposeLiveConnections(csrfToken);
    routerRef.current.replace(LOGIN_PATH);
  }, []);

  // biome-ignore lint/correctness/useExhaustiveDependencies: `attempt` is the "Try again" trigger, not an input
  useEffect(() => {
    const controller = new AbortController();
    const endpoints = browserApiEndpoints(configuredApiUrl);
    setState({ status: 'checking' });
    (async () => {
      const session = await readSession(endpoints.baseUrl, controller.signal);
      if (session === null) {
        leave(null);
        return;
      }
      const client = createConsoleClient({ httpUrl: endpoints.httpUrl, csrfToken: session.csrfToken });
      const result = await runOperation(client, VIEWER_QUERY, {}, controller.signal);
      setState({ status: 'ready', csrfToken: session.csrfToken, viewer: result.viewer, endpoints, client });
    })().catch((error: unknown) => {
      if (controller.signal.aborted) return;
      if (hasErrorCode(error, 'UNAUTHENTICATED')) {
        leave(null);
        return;
      }
      setState({ status: 'failed', error: toRequestError(error) });
    });
    return () => controller.abort();
  }, [configuredApiUrl, leave, attempt]);

  const session = useMemo<Session | null>(() => {
    if (state.status !== 'ready') return null;
    const { csrfToken, viewer, endpoints, client } = state;
    const endIfUnauthenticated = (error: unknown) => {
      if (!hasErrorCode(error, 'UNAUTHENTICATED')) return false;
      leave(csrfToken);
      return true;
    };
    const permissions = new Set(viewer.permissions);
    return {
      viewer,
      endpoints,
      client,
      live: getLiveConnection(endpoints.wsUrl, csrfToken),
      can: (permission) => permissions.has(permission),
      async request(document, variables, signal) {
        try {
          return await runOperation(client, document, variables ?? ({} as never), signal);
        } catch (error) {
          endIfUnauthenticated(error);
          throw error;
        }
      },
      endIfUnauthenticated,
      signOut: () => {
        setState({ status: 'leaving' });
        disposeLiveConnections(csrfToken);
        // The session is revoked on the server before the page moves on; a failure still leaves the page.
        closeSession(endpoints.baseUrl, csrfToken)
          .catch(() => undefined)
          .finally(() => routerRef.current.replace(LOGIN_PATH));
      },
    };
  }, [state, leave]);

  if (state.status === 'failed') {
    return (
      <main className="page page--narrow" id="main">
        <Stack>
          <Title order={1}>Cannot load your session</Title>
          <Alert color="red" title="Something went wrong" role="alert" data-testid="session-error">
            <Text>{plainMessage(state.error)}</Text>
            <Text size="sm" c="dimmed">
              Detail: {state.error.code} — {state.error.message}
            </Text>
          </Alert>
          <Group>
            <Button onClick={() => setAttempt((n) => n + 1)}>Try again</Button>
            <Button variant="default" onClick={() => leave(null)}>
              Sign in again
            </Button>
          </Group>
        </Stack>
      </main>
    );
  }

  if (!session) {
    return (
      <main className="page page--narrow" aria-busy="true" id="main">
        <Group gap="sm">
          <Loader size="sm" />
          <Text className="loading">
            {state.status === 'leaving' ? 'Redirecting to sign in…' : 'Checking your session…'}
          </Text>
        </Group>
      </main>
    );
  }

  return (
    <SessionContext.Provider value={session}>
      <AppHeader viewer={session.viewer} can={session.can} onSignOut={session.signOut} />
      <main className="page" id="main">
        {children}
      </main>
    </SessionContext.Provider>
  );
}
