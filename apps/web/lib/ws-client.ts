/**
 * One shared graphql-ws connection per (API URL, session): every live view of a session multiplexes over it.
 * The socket opens lazily with the first subscription and closes a little after the last one ends, so moving
 * between pages reuses it. Dropped connections are retried forever with capped back-off; after a reconnect each
 * live subscription is started again with fresh variables (e.g. the last event id it has seen), so a view that
 * resumes from a cursor misses nothing.
 */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import {
  errorFromGraphQLErrors,
  GraphQLRequestError,
  type GraphQLErrorPayload,
  toRequestError,
} from './graphql-client';

export type LiveConnectionState = 'idle' | 'connecting' | 'connected' | 'reconnecting';

export interface LiveSubscriptionOptions<TData, TVariables> {
  query: TypedDocumentNode<TData, TVariables>;
  /** Read each time the subscription is (re)started, so it can carry a resume cursor. */
  variables?: () => TVariables | undefined;
  onData: (data: TData) => void;
  /** The subscription has ended with an error and will not restart by itself. */
  onError: (error: GraphQLRequestError) => void;
  /** The socket came back after a drop; a view may refetch what a subscription cannot replay. */
  onReconnected?: () => void;
}

export interface LiveConnection {
  getState(): LiveConnectionState;
  onStateChange(listener: () => void): () => void;
  subscribe<TData, TVariables extends Record<string, unknown>>(
    options: LiveSubscriptionOptions<TData, TVariables>,
  ): () => void;
  dispose(): void;
}

/** graphql-ws close codes the server uses to refuse a connection's credentials. */
const UNAUTHORIZED_CLOSE_CODE = 4401;
const FORBIDDEN_CLOSE_CODE = 4403;
/** Keep the socket a moment after the last subscription ends, so page navigation does not reconnect. */
const LAZY_CLOSE_MS = 3_000;
/** Ping an idle socket so proxies do not cut it and a dead peer is noticed. */
const KEEP_ALIVE_MS = 15_000;
const MAX_RETRY_WAIT_MS = 10_000;

interface CloseEventLike {
  code: number;
  reason: string;
}

function isCloseEventLike(value: unknown): value is CloseEventLike {
  return typeof value === 'object' && value !== null && 'code' in value && 'reason' in value;
}

function isAuthRefusal(value: unknown): boolean {
  return isCloseEventLike(value) && (value.code === UNAUTHORIZED_CLOSE_CODE || value.code === FORBIDDEN_CLOSE_CODE);
}

function toLiveError(error: unknown): GraphQLRequestError {
  if (isCloseEventLike(error)) {
    if (isAuthRefusal(error)) {
      return new GraphQLRequestError(
        error.reason || 'The API refused the live connection for this session.',
        'UNAUTHENTICATED',
      );
    }
    return new GraphQLRequestError(
      `The live connection closed (${error.code}${error.reason ? `: ${error.reason}` : ''}).`,
      'NETWORK_ERROR',
    );
  }
  return toRequestError(error);
}

function createLiveConnection(wsUrl: string, csrfToken: string): LiveConnection {
  let state: LiveConnectionState = 'idle';
  let activeSubscriptions = 0;
  /** Set when the socket closed while views were still subscribed: the next ack is a reconnect. */
  let droppedWhileActive = false;
  const stateListeners = new Set<() => void>();
  const restarters = new Set<() => void>();

  const setState = (next: LiveConnectionState) => {
    if (state === next) return;
    state = next;
    for (const listener of [...stateListeners]) listener();
  };

  const client: Client = createClient({
    url: wsUrl,
    // The session cookie goes with the handshake; the CSRF token proves the console's page opened it.
    connectionParams: { csrfToken },
    lazy: true,
    lazyCloseTimeout: LAZY_CLOSE_MS,
    keepAlive: KEEP_ALIVE_MS,
    retryAttempts: Number.POSITIVE_INFINITY,
    // Refused credentials will not improve by retrying; everything else (API restarting, network blip) might.
    shouldRetry: (errorOrCloseEvent) => !isAuthRefusal(errorOrCloseEvent),
    retryWait: async (retries) => {
      const wait = Math.min(MAX_RETRY_WAIT_MS, 500 * 2 ** retries) + Math.floor(Math.random() * 500);
      await new Promise((resolve) => setTimeout(resolve, wait));
    },
  });

  client.on('connecting', () => {
    setState(droppedWhileActive || state === 'reconnecting' ? 'reconnecting' : 'connecting');
  });
  client.on('connected', (_socket, _payload, wasRetry) => {
    const isReconnect = wasRetry || droppedWhileActive;
    droppedWhileActive = false;
    setState('connected');
    if (isReconnect) for (const restart of [...restarters]) restart();
  });
  client.on('closed', () => {
    droppedWhileActive = activeSubscriptions > 0;
    setState(droppedWhileActive ? 'reconnecting' : 'idle');
  });

  function subscribe<TData, TVariables extends Record<string, unknown>>(
    options: LiveSubscriptionOptions<TData, TVariables>,
  ): () => void {
    const query = print(options.query);
    let isActive = true;
    let generation = 0;
    let disposeCurrent: (() => void) | null = null;

    const start = () => {
      generation += 1;
      const myGeneration = generation;
      const isCurrent = () => isActive && myGeneration === generation;
      const previous = disposeCurrent;
      // Start the new subscription before ending the old one, so the socket never looks unused in between.
      disposeCurrent = client.subscribe<TData>(
        { query, variables: options.variables?.() },
        {
          next: (result) => {
            if (!isCurrent()) return;
            if (result.errors && result.errors.length > 0) {
              options.onError(errorFromGraphQLErrors(result.errors as readonly GraphQLErrorPayload[]));
              return;
            }
            if (result.data) options.onData(result.data as TData);
          },
          error: (error) => {
            if (!isCurrent()) return;
            options.onError(toLiveError(error));
          },
          complete: () => {},
        },
      );
      previous?.();
    };

    const restart = () => {
      if (!isActive) return;
      start();
      options.onReconnected?.();
    };

    activeSubscriptions += 1;
    restarters.add(restart);
    start();

    return () => {
      if (!isActive) return;
      isActive = false;
      activeSubscriptions -= 1;
      restarters.delete(restart);
      disposeCurrent?.();
      disposeCurrent = null;
    };
  }

  return {
    getState: () => state,
    onStateChange(listener) {
      stateListeners.add(listener);
      return () => stateListeners.delete(listener);
    },
    subscribe,
    dispose() {
      restarters.clear();
      stateListeners.clear();
      void client.dispose();
    },
  };
}

const connections = new Map<string, LiveConnection>();

/** The shared live connection for this session (created on first use; the socket itself opens lazily). */
export function getLiveConnection(wsUrl: string, csrfToken: string): LiveConnection {
  const cacheKey = `${wsUrl}\n${csrfToken}`;
  let connection = connections.get(cacheKey);
  if (!connection) {
    connection = createLiveConnection(wsUrl, csrfToken);
    connections.set(cacheKey, connection);
  }
  return connection;
}

/** Closes the connections of one session (sign-out, ended session), or all of them. */
export function disposeLiveConnections(csrfToken?: string): void {
  for (const [cacheKey, connection] of connections) {
    if (csrfToken === undefined || cacheKey.endsWith(`\n${csrfToken}`)) {
      connection.dispose();
      connections.delete(cacheKey);
    }
  }
}
