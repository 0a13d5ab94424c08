import { type Connection, EchelonApiError, graphqlRequest } from '@echelon/client';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';

/** One typed operation over HTTP; refusals arrive as EchelonApiError with the contract's code. */
export function request<Result, Variables>(
  connection: Connection,
  document: TypedDocumentNode<Result, Variables>,
  variables: Variables,
  signal?: AbortSignal,
): Promise<Result> {
  return graphqlRequest<Result>(connection, print(document), variables as Record<string, unknown>, signal);
}

/** graphql-ws closes a connection it does not accept with 4403 (a wrong or revoked key). */
const REFUSED_CLOSE_CODES = new Set([4401, 4403]);

/**
 * A graphql-ws client authenticated like HTTP requests. It reconnects a few times on its own; a refused key is an
 * UNAUTHENTICATED error, not a reconnect loop.
 */
export function subscriptionClient(connection: Connection): Client {
  const url = new URL('/graphql', connection.apiUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return createClient({
    url: url.toString(),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${connection.apiKey}` },
    retryAttempts: 5,
    shouldRetry: (event) => !(isCloseEvent(event) && REFUSED_CLOSE_CODES.has(event.code)),
  });
}

const isCloseEvent = (value: unknown): value is { code: number; reason: string } =>
  typeof value === 'object' && value !== null && 'code' in value && typeof value.code === 'number';

/** What a subscription's failure means: a GraphQL error list, a refused socket or a network failure. */
export function subscriptionError(error: unknown): Error {
  if (Array.isArray(error)) {
    const first = error[0] as { message?: string; extensions?: { code?: string } } | undefined;
    return new EchelonApiError(first?.message ?? 'the subscription failed', first?.extensions?.code ?? 'INTERNAL');
  }
  if (isCloseEvent(error)) {
    if (REFUSED_CLOSE_CODES.has(error.code)) {
      return new EchelonApiError(
        `the API refused the live connection (${error.reason || error.code})`,
        'UNAUTHENTICATED',
      );
    }
    const failed = new TypeError('fetch failed');
    failed.cause = new Error(`the live connection closed (${error.code}${error.reason ? ` ${error.reason}` : ''})`);
    return failed;
  }
  if (error instanceof Error) return error;
  const failed = new TypeError('fetch failed');
  failed.cause = new Error('the live connection failed');
  return failed;
}
