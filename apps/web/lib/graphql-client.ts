/**
 * The console's typed errors: a `GraphQLRequestError` whose `code` is the contract's `extensions.code`
 * (UNAUTHENTICATED, NOT_FOUND, …) or one of the client-side codes below. Requests go through urql (urql-client.ts).
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

/**
 * The error's message in plain words for a person; the contract's code stays available (`error.code`) for a
 * detail line. Paths and ids that mean nothing to a reader are left to that detail.
 */
export function plainMessage(error: GraphQLRequestError): string {
  switch (error.code) {
    case 'UNAUTHENTICATED':
      return 'Your session has ended. Sign in again.';
    case 'FORBIDDEN':
      return 'Your role does not allow this.';
    case 'NETWORK_ERROR':
      return 'The Echelon API cannot be reached. Check your connection and try again.';
    case 'BAD_RESPONSE':
    case 'UNKNOWN':
      return 'The server could not answer. Try again in a moment.';
    default: {
      const first = error.message.split('; ')[0] ?? error.message;
      const sentence = first.charAt(0).toUpperCase() + first.slice(1);
      return /[.!?]$/.test(sentence) ? sentence : `${sentence}.`;
    }
  }
}
