/**
 * A deliberately small GraphQL-over-HTTP client: one POST, typed data back, or a `GraphQLRequestError` whose
 * `code` is the contract's `extensions.code` (UNAUTHENTICATED, NOT_FOUND, …) or one of the client-side codes below.
 */

/** Codes the contract promises, plus the ones this client adds for failures that never reached a resolver. */
export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'BAD_USER_INPUT'
  | 'CONFLICT'
  | 'NO_POLICY'
  | 'INSUFFICIENT_CAPACITY'
  | 'STORAGE_UNAVAILABLE'
  /** The API could not be reached at all (DNS, refused connection, CORS). */
  | 'NETWORK_ERROR'
  /** The API answered, but not with a GraphQL response. */
  | 'BAD_RESPONSE'
  /** The server reported an error without a code. */
  | 'UNKNOWN';

export interface GraphQLErrorPayload {
  message: string;
  path?: ReadonlyArray<string | number>;
  extensions?: { code?: unknown; [key: string]: unknown };
}

export class GraphQLRequestError extends Error {
  override readonly name = 'GraphQLRequestError';

  constructor(
    message: string,
    /** The contract's `extensions.code`, or a client-side code; unknown server codes pass through as strings. */
    readonly code: ErrorCode | (string & {}),
    readonly errors: readonly GraphQLErrorPayload[] = [],
    readonly httpStatus?: number,
  ) {
    super(message);
  }
}

export function isGraphQLRequestError(error: unknown): error is GraphQLRequestError {
  return error instanceof GraphQLRequestError;
}

export function hasErrorCode(error: unknown, code: ErrorCode): boolean {
  return isGraphQLRequestError(error) && error.code === code;
}

/** Builds one error from a GraphQL `errors` array; the first error's code wins. */
export function errorFromGraphQLErrors(
  errors: readonly GraphQLErrorPayload[],
  httpStatus?: number,
): GraphQLRequestError {
  const first = errors[0];
  const reportedCode = first?.extensions?.code;
  const code =
    typeof reportedCode === 'string' && reportedCode
      ? reportedCode
      : httpStatus === 401
        ? 'UNAUTHENTICATED'
        : 'UNKNOWN';
  const message =
    errors
      .map((error) => error.message)
      .filter(Boolean)
      .join('; ') || 'The API reported an error.';
  return new GraphQLRequestError(message, code, errors, httpStatus);
}

/** Turns whatever a transport threw into a GraphQLRequestError (already-typed errors pass through). */
export function toRequestError(error: unknown): GraphQLRequestError {
  if (isGraphQLRequestError(error)) return error;
  if (Array.isArray(error)) return errorFromGraphQLErrors(error as GraphQLErrorPayload[]);
  if (error instanceof Error) return new GraphQLRequestError(error.message, 'NETWORK_ERROR');
  return new GraphQLRequestError(String(error), 'UNKNOWN');
}

export interface GraphQLRequest<TVariables> {
  query: string;
  variables?: TVariables;
  /** Defaults to the first `query|mutation Name` in the document. */
  operationName?: string;
}

interface GraphQLResponseBody<TData> {
  data?: TData | null;
  errors?: GraphQLErrorPayload[];
}

function isResponseBody(value: unknown): value is GraphQLResponseBody<unknown> {
  return typeof value === 'object' && value !== null && ('data' in value || 'errors' in value);
}

function operationNameOf(query: string): string | undefined {
  return /\b(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)/.exec(query)?.[1];
}

/**
 * POSTs one operation to `url` with `Authorization: Bearer <apiKey>`.
 * Resolves with `data` only when the response carries no errors; otherwise throws a GraphQLRequestError.
 */
export async function executeGraphQL<TData, TVariables extends Record<string, unknown> = Record<string, never>>(
  url: string,
  apiKey: string,
  request: GraphQLRequest<TVariables>,
  signal?: AbortSignal,
): Promise<TData> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
        authorization: `Bearer ${apiKey}`,
      },
      body: JSON.stringify({
        query: request.query,
        variables: request.variables ?? {},
        operationName: request.operationName ?? operationNameOf(request.query),
      }),
      cache: 'no-store',
      signal,
    });
  } catch (error) {
    if (signal?.aborted) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new GraphQLRequestError(`Cannot reach the Echelon API at ${url} (${reason}).`, 'NETWORK_ERROR');
  }

  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }

  if (!isResponseBody(body)) {
    if (response.status === 401) {
      throw new GraphQLRequestError('The API key was not accepted.', 'UNAUTHENTICATED', [], 401);
    }
    throw new GraphQLRequestError(
      `The API at ${url} answered HTTP ${response.status} without a GraphQL response.`,
      'BAD_RESPONSE',
      [],
      response.status,
    );
  }

  if (body.errors && body.errors.length > 0) throw errorFromGraphQLErrors(body.errors, response.status);
  if (body.data === undefined || body.data === null) {
    throw new GraphQLRequestError('The API answered without data.', 'BAD_RESPONSE', [], response.status);
  }
  return body.data as TData;
}
