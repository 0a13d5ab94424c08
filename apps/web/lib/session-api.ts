/**
 * The console's session with the API: the key is exchanged once for an httpOnly cookie (the browser keeps it; no
 * script can read it) and a CSRF token, which lives only in memory and is fetched again after a reload.
 */
import { GraphQLRequestError } from './graphql-client';

export interface ConsoleSession {
  /** Sent back in `X-CSRF-Token` (HTTP) and `connectionParams.csrfToken` (graphql-ws). */
  csrfToken: string;
  expiresAt: string;
}

interface ErrorBody {
  error?: { code?: string; message?: string };
}

async function sessionRequest(baseUrl: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(`${baseUrl}/session`, { ...init, credentials: 'include', cache: 'no-store' });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new GraphQLRequestError(`The Echelon API at ${baseUrl} cannot be reached (${reason}).`, 'NETWORK_ERROR');
  }
}

async function refusal(response: Response): Promise<GraphQLRequestError> {
  const body = (await response.json().catch(() => ({}))) as ErrorBody;
  const code = body.error?.code ?? (response.status === 401 ? 'UNAUTHENTICATED' : 'BAD_RESPONSE');
  return new GraphQLRequestError(body.error?.message ?? `HTTP ${response.status}`, code, [], response.status);
}

/** Exchanges an API key for a session cookie. */
export async function openSession(baseUrl: string, apiKey: string): Promise<ConsoleSession> {
  const response = await sessionRequest(baseUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ apiKey }),
  });
  if (response.status !== 201) throw await refusal(response);
  return (await response.json()) as ConsoleSession;
}

/** The session the browser's cookie holds, or null when there is none (expired, signed out, key revoked). */
export async function readSession(baseUrl: string, signal?: AbortSignal): Promise<ConsoleSession | null> {
  const response = await sessionRequest(baseUrl, { method: 'GET', signal });
  if (response.status === 401) return null;
  if (!response.ok) throw await refusal(response);
  return (await response.json()) as ConsoleSession;
}

/** Revokes the session on the server and clears the cookie. */
export async function closeSession(baseUrl: string, csrfToken: string): Promise<void> {
  const response = await sessionRequest(baseUrl, { method: 'DELETE', headers: { 'x-csrf-token': csrfToken } });
  if (response.status !== 204) throw await refusal(response);
}
