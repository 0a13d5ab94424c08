import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** The httpOnly cookie that carries `<session id>.<secret>`; script never sees it. */
export const SESSION_COOKIE = 'echelon_session';
/** The header (HTTP) and connection parameter (graphql-ws) that carry the session's CSRF token. */
export const CSRF_HEADER = 'x-csrf-token';
/** How long a console session lasts; signing in again opens a new one. */
export const SESSION_TTL_SECONDS = 12 * 60 * 60;
/** The scheme the cookie is handed to `authenticate` under, beside `Bearer`. */
export const SESSION_SCHEME = 'Session';

/** The value of one cookie in a `Cookie` header, or undefined. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const index = part.indexOf('=');
    if (index < 0) continue;
    if (part.slice(0, index).trim() !== name) continue;
    const value = part.slice(index + 1).trim();
    try {
      return decodeURIComponent(value);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

export const sessionTokenOf = (req: Pick<IncomingMessage, 'headers'>): string | undefined =>
  readCookie(req.headers.cookie, SESSION_COOKIE);

/**
 * The CSRF token of a session: derived from the cookie's secret, so it needs no storage and cannot be made without
 * the cookie. The console reads it from the answer of POST or GET /session (which only its own origin can read,
 * by CORS) and sends it back with every request that changes something.
 */
export const csrfTokenFor = (sessionToken: string): string =>
  createHash('sha256').update(`echelon-csrf\0${sessionToken}`).digest('base64url');

export function isCsrfTokenValid(sessionToken: string, presented: unknown): boolean {
  if (typeof presented !== 'string') return false;
  const expected = Buffer.from(csrfTokenFor(sessionToken));
  const actual = Buffer.from(presented);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

const hostnameOf = (value: string | undefined): string | undefined => {
  if (value === undefined) return undefined;
  try {
    return new URL(value.includes('://') ? value : `http://${value}`).hostname;
  } catch {
    return undefined;
  }
};

/**
 * Whether a browser request comes from a page the console may be served from: the API's own host on any port
 * (the console and the API share a host; cookies do not separate ports). A request without an Origin header is
 * not a cross-site fetch (a link, a same-origin GET). `Sec-Fetch-Site: cross-site` is refused whatever the
 * Origin says.
 */
export function isConsoleOrigin(req: Pick<IncomingMessage, 'headers'>): boolean {
  if (req.headers['sec-fetch-site'] === 'cross-site') return false;
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  const originHost = hostnameOf(origin);
  return originHost !== undefined && originHost === hostnameOf(req.headers.host);
}

/** The Set-Cookie value that stores the session (Secure when the request came over https). */
export function sessionCookie(token: string, options: { secure: boolean; maxAgeSeconds: number }): string {
  return [
    `${SESSION_COOKIE}=${encodeURIComponent(token)}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${options.maxAgeSeconds}`,
    ...(options.secure ? ['Secure'] : []),
  ].join('; ');
}

export const clearedSessionCookie = (secure: boolean): string => sessionCookie('', { secure, maxAgeSeconds: 0 });
