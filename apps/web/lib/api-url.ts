/** The port the API listens on when no URL is configured (see ARCHITECTURE.md, runtime components). */
export const DEFAULT_API_PORT = 4000;

const GRAPHQL_PATH = '/graphql';

export interface ApiEndpoints {
  /** Base URL of the API, without a trailing slash, e.g. `http://localhost:4000`. */
  readonly baseUrl: string;
  /** GraphQL over HTTP (POST). */
  readonly httpUrl: string;
  /** GraphQL over WebSocket (graphql-transport-ws). */
  readonly wsUrl: string;
}

type LocationLike = Pick<Location, 'protocol' | 'hostname'>;

/**
 * The API base URL: the configured one (ECHELON_PUBLIC_API_URL, read by the server at request time) when set,
 * otherwise the host the browser is on, at the API's default port.
 */
export function resolveApiBaseUrl(configuredUrl: string | null, location: LocationLike): string {
  const configured = configuredUrl?.trim();
  if (configured) return normaliseBaseUrl(configured);
  return `${location.protocol}//${formatHostname(location.hostname)}:${DEFAULT_API_PORT}`;
}

export function apiEndpointsFor(baseUrl: string): ApiEndpoints {
  const base = normaliseBaseUrl(baseUrl);
  const httpUrl = `${base}${GRAPHQL_PATH}`;
  return { baseUrl: base, httpUrl, wsUrl: httpUrl.replace(/^http/i, 'ws') };
}

/** Endpoints as seen from the current browser window. Only call this in the browser. */
export function browserApiEndpoints(configuredUrl: string | null): ApiEndpoints {
  return apiEndpointsFor(resolveApiBaseUrl(configuredUrl, window.location));
}

/** Accepts `http://host:4000`, `http://host:4000/` and `http://host:4000/graphql` alike. */
function normaliseBaseUrl(url: string): string {
  let base = url.replace(/\/+$/, '');
  if (base.toLowerCase().endsWith(GRAPHQL_PATH)) base = base.slice(0, -GRAPHQL_PATH.length);
  return base;
}

/** IPv6 literals need brackets inside a URL; `location.hostname` gives them with brackets already in browsers. */
function formatHostname(hostname: string): string {
  return hostname.includes(':') && !hostname.startsWith('[') ? `[${hostname}]` : hostname;
}
