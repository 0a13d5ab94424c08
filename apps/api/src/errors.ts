import { DomainError, type ErrorCode, isDomainError } from '@echelon/domain';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';

const httpStatus = (code: ErrorCode): number => {
  switch (code) {
    case 'UNAUTHENTICATED':
      return 401;
    case 'FORBIDDEN':
      return 403;
    case 'NOT_FOUND':
      return 404;
    case 'BAD_USER_INPUT':
      return 400;
    case 'CONFLICT':
      return 409;
    case 'NO_POLICY':
      return 422;
    case 'INSUFFICIENT_CAPACITY':
      return 507;
    case 'STORAGE_UNAVAILABLE':
      return 503;
  }
};

/** The one place a domain refusal becomes a GraphQL error with the contract's code. */
export function toGraphQLError(error: DomainError): GraphQLError {
  return new GraphQLError(error.message, {
    extensions: { code: error.code, http: { status: httpStatus(error.code) }, ...error.details },
  });
}

/** Codes GraphQL itself produces for malformed requests, mapped onto the contract's. */
const VALIDATION_CODES = new Set([
  'GRAPHQL_VALIDATION_FAILED',
  'GRAPHQL_PARSE_FAILED',
  'BAD_REQUEST',
  'BAD_USER_INPUT',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
]);

/** Stack traces and wrapped exceptions name server paths and code: they stay in the log. */
function withoutInternals(formatted: GraphQLFormattedError): GraphQLFormattedError {
  if (formatted.extensions === undefined) return formatted;
  const { stacktrace: _stacktrace, exception: _exception, ...extensions } = formatted.extensions;
  return { ...formatted, extensions };
}

/**
 * Formats every error leaving the API: domain errors keep their code, malformed input becomes
 * BAD_USER_INPUT, anything unexpected is logged and reported without internals.
 */
export function formatError(received: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const formatted = withoutInternals(received);
  const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
  if (isDomainError(original)) {
    const mapped = toGraphQLError(original);
    return { ...formatted, message: mapped.message, extensions: { code: original.code, ...original.details } };
  }
  const code = formatted.extensions?.code;
  if (typeof code === 'string' && VALIDATION_CODES.has(code)) {
    return { ...formatted, extensions: { ...formatted.extensions, code: 'BAD_USER_INPUT' } };
  }
  if (typeof code === 'string' && ['UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND'].includes(code)) return formatted;
  if (original instanceof GraphQLError && original.extensions?.code === 'BAD_USER_INPUT') return formatted;
  // graphql-js's own request errors (unknown operation name, variable coercion) carry no cause: the request was wrong.
  if (error instanceof GraphQLError && error.originalError === undefined && code === undefined) {
    return { ...formatted, extensions: { ...formatted.extensions, code: 'BAD_USER_INPUT' } };
  }
  console.error('unexpected error:', original);
  return {
    message: 'internal error; the server logged the details',
    locations: formatted.locations,
    path: formatted.path,
    extensions: { code: 'INTERNAL_SERVER_ERROR' },
  };
}

export { DomainError };
