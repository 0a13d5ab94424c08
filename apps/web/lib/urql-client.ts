/**
 * GraphQL over HTTP for the console: urql with the session cookie (`credentials: 'include'`) and the session's
 * CSRF token on every request. No normalised cache: each view asks for what it shows, fresh, and live views
 * follow graphql-ws (ws-client.ts).
 */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { type AnyVariables, Client, type CombinedError, fetchExchange } from 'urql';
import { errorFromGraphQLErrors, GraphQLRequestError, type GraphQLErrorPayload } from './graphql-client';

export function createConsoleClient(options: { httpUrl: string; csrfToken: string }): Client {
  return new Client({
    url: options.httpUrl,
    exchanges: [fetchExchange],
    requestPolicy: 'network-only',
    preferGetMethod: false,
    fetchOptions: { credentials: 'include', headers: { 'x-csrf-token': options.csrfToken } },
  });
}

function toRequestError(error: CombinedError): GraphQLRequestError {
  const status = (error.response as Response | undefined)?.status;
  if (error.graphQLErrors.length > 0) {
    return errorFromGraphQLErrors(
      error.graphQLErrors.map(
        (graphQLError): GraphQLErrorPayload => ({
          message: graphQLError.message,
          extensions: graphQLError.extensions as GraphQLErrorPayload['extensions'],
        }),
      ),
      status,
    );
  }
  if (status === 401) return new GraphQLRequestError('Your session has ended.', 'UNAUTHENTICATED', [], 401);
  const reason = error.networkError?.message ?? error.message;
  return new GraphQLRequestError(`The Echelon API cannot be reached (${reason}).`, 'NETWORK_ERROR', [], status);
}

const isMutation = (document: TypedDocumentNode<unknown, never>): boolean =>
  document.definitions.some(
    (definition) => definition.kind === 'OperationDefinition' && definition.operation === 'mutation',
  );

/** One query or mutation; resolves with its data or rejects with a typed GraphQLRequestError. */
export async function runOperation<TData, TVariables extends AnyVariables>(
  client: Client,
  document: TypedDocumentNode<TData, TVariables>,
  variables: TVariables,
  signal?: AbortSignal,
): Promise<TData> {
  const pending = isMutation(document as TypedDocumentNode<unknown, never>)
    ? client.mutation(document, variables).toPromise()
    : client.query(document, variables).toPromise();
  const aborted = new Promise<never>((_, reject) => {
    signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')), { once: true });
  });
  const result = await Promise.race([pending, aborted]);
  if (result.error) throw toRequestError(result.error);
  if (result.data === undefined || result.data === null) {
    throw new GraphQLRequestError('The API answered without data.', 'BAD_RESPONSE');
  }
  return result.data;
}
