import type { IncomingMessage } from 'node:http';
import { authenticateSession, createSession, revokeSession } from '@echelon/db';
import express from 'express';
import { authenticate, type Services } from '../../context.js';
import {
  CSRF_HEADER,
  clearedSessionCookie,
  csrfTokenFor,
  isConsoleOrigin,
  isCsrfTokenValid,
  SESSION_SCHEME,
  SESSION_TTL_SECONDS,
  sessionCookie,
  sessionTokenOf,
} from './session-cookie.js';
import type { SessionSockets } from './session-sockets.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

type Refusal = { status: number; code: string; message: string };

/** A refusal in the shape of the route it answers: GraphQL errors on /graphql, `{ error }` elsewhere. */
function refuse(req: express.Request, res: express.Response, refusal: Refusal): void {
  const body = req.path.startsWith('/graphql')
    ? { errors: [{ message: refusal.message, extensions: { code: refusal.code } }] }
    : { error: { code: refusal.code, message: refusal.message } };
  res.status(refusal.status).json(body);
}

const CROSS_SITE: Refusal = {
  status: 403,
  code: 'FORBIDDEN',
  message: 'this request came from another site; the console session is only accepted from the console itself',
};
const NO_CSRF_TOKEN: Refusal = {
  status: 403,
  code: 'FORBIDDEN',
  message: `a request that changes something with the session cookie must carry its CSRF token in ${CSRF_HEADER}`,
};

/**
 * Lets the console's own origin (the API's host on another port) send the session cookie: mounted before the CORS
 * middleware, so preflight answers carry it too. Other origins get no credentials, so they can neither send the
 * cookie nor read an answer made with it.
 */
export function sessionCors(req: express.Request, res: express.Response, next: express.NextFunction): void {
  if (req.headers.origin !== undefined && isConsoleOrigin(req))
    res.setHeader('Access-Control-Allow-Credentials', 'true');
  next();
}

/**
 * The credential a graphql-ws connection made by the console carries: its session cookie, accepted only from the
 * console's origin with the session's CSRF token in the connection parameters (a socket is not protected by
 * CORS). Undefined when any of the three is missing.
 */
export function socketSessionAuthorization(
  request: IncomingMessage,
  connectionParams: Record<string, unknown> | undefined,
): string | undefined {
  const token = sessionTokenOf(request);
  if (token === undefined || !isConsoleOrigin(request)) return undefined;
  if (!isCsrfTokenValid(token, connectionParams?.csrfToken)) return undefined;
  return `${SESSION_SCHEME} ${token}`;
}

/**
 * `POST /session` exchanges an API key for a session cookie, `GET /session` reports it (and its CSRF token),
 * `DELETE /session` revokes it. Every other route accepts the cookie in place of `Authorization`: safe methods
 * as it is, others only with the session's CSRF token from the console's origin.
 */
export function createSessionsRouter(services: Services, sockets: SessionSockets): express.Router {
  const router = express.Router();
  const isSecure = (req: express.Request) =>
    req.secure || (services.config.trustProxy && req.headers['x-forwarded-proto'] === 'https');

  router.post('/session', express.json({ limit: '16kb' }), async (req, res) => {
    try {
      if (!isConsoleOrigin(req)) return refuse(req, res, CROSS_SITE);
      const apiKey: unknown = req.is('application/json') ? req.body?.apiKey : undefined;
      if (typeof apiKey !== 'string' || apiKey.trim() === '') {
        return refuse(req, res, {
          status: 400,
          code: 'BAD_USER_INPUT',
          message: 'send a JSON body { "apiKey": "<your API key>" }',
        });
      }
      const principal = await authenticate(services, `Bearer ${apiKey.trim()}`);
      if (principal === undefined) {
        return refuse(req, res, {
          status: 401,
          code: 'UNAUTHENTICATED',
          message: 'this API key is unknown or revoked; check that it was copied whole',
        });
      }
      if (principal.kind !== 'identity') {
        return refuse(req, res, {
          status: 400,
          code: 'BAD_USER_INPUT',
          message: "the bootstrap token does not open a console session; sign in with a tenant identity's API key",
        });
      }
      // A browser signing in again leaves no live session behind.
      const previous = sessionTokenOf(req);
      const previousHolder = previous === undefined ? undefined : await authenticateSession(services.db, previous);
      if (previousHolder !== undefined) {
        await revokeSession(services.db, previousHolder.tenant.id, previousHolder.sessionId);
        sockets.close(previousHolder.sessionId);
      }
      const session = await createSession(
        services.db,
        { tenantId: principal.tenant.id, identityId: principal.identity.id, apiKeyId: principal.apiKeyId },
        SESSION_TTL_SECONDS,
      );
      res.setHeader(
        'Set-Cookie',
        sessionCookie(session.token, { secure: isSecure(req), maxAgeSeconds: SESSION_TTL_SECONDS }),
      );
      res.setHeader('Cache-Control', 'no-store');
      res.status(201).json({ csrfToken: csrfTokenFor(session.token), expiresAt: session.expiresAt.toISOString() });
    } catch (error) {
      console.error('sign-in failed:', error);
      refuse(req, res, {
        status: 500,
        code: 'INTERNAL_SERVER_ERROR',
        message: 'sign-in failed; the server logged why',
      });
    }
  });

  router.get('/session', async (req, res) => {
    try {
      res.setHeader('Cache-Control', 'no-store');
      const token = sessionTokenOf(req);
      const holder = token === undefined ? undefined : await authenticateSession(services.db, token);
      if (token === undefined || holder === undefined) {
        if (token !== undefined) res.setHeader('Set-Cookie', clearedSessionCookie(isSecure(req)));
        return refuse(req, res, {
          status: 401,
          code: 'UNAUTHENTICATED',
          message: 'no session: it expired, was signed out, or its API key was revoked; sign in again',
        });
      }
      res.json({ csrfToken: csrfTokenFor(token), expiresAt: holder.expiresAt.toISOString() });
    } catch (error) {
      console.error('session lookup failed:', error);
      refuse(req, res, { status: 500, code: 'INTERNAL_SERVER_ERROR', message: 'the session could not be read' });
    }
  });

  router.delete('/session', async (req, res) => {
    try {
      const token = sessionTokenOf(req);
      if (token !== undefined) {
        if (!isConsoleOrigin(req)) return refuse(req, res, CROSS_SITE);
        if (!isCsrfTokenValid(token, req.headers[CSRF_HEADER])) return refuse(req, res, NO_CSRF_TOKEN);
        const holder = await authenticateSession(services.db, token);
        if (holder !== undefined) {
          await revokeSession(services.db, holder.tenant.id, holder.sessionId);
          sockets.close(holder.sessionId);
        }
      }
      res.setHeader('Set-Cookie', clearedSessionCookie(isSecure(req)));
      res.status(204).end();
    } catch (error) {
      console.error('sign-out failed:', error);
      refuse(req, res, { status: 500, code: 'INTERNAL_SERVER_ERROR', message: 'sign-out failed; try again' });
    }
  });

  // Every other route: the cookie becomes the request's credential, unless the caller sent its own.
  router.use((req, res, next) => {
    if (req.headers.authorization !== undefined) return next();
    const token = sessionTokenOf(req);
    if (token === undefined) return next();
    if (!SAFE_METHODS.has(req.method)) {
      if (!isConsoleOrigin(req)) return refuse(req, res, CROSS_SITE);
      if (!isCsrfTokenValid(token, req.headers[CSRF_HEADER])) return refuse(req, res, NO_CSRF_TOKEN);
    }
    req.headers.authorization = `${SESSION_SCHEME} ${token}`;
    next();
  });

  return router;
}
