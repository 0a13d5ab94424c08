import { randomBytes, randomUUID } from 'node:crypto';
import { createDb, type Db, type SeededTenant, tenantDb } from '@echelon/db';
import { gqlOk, seedTwoCopyTenant, startTestStack, type TestStack } from '@echelon/stack';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { csrfTokenFor } from '../src/modules/sessions/index.js';

/**
 * Console sessions against the real stack: the API key is exchanged for an httpOnly cookie, and the attacks a
 * cookie invites are refused: a cross-site request without the session's CSRF token, a signed-out or expired
 * session, one whose API key was revoked, a forged cookie, and another tenant's rows.
 */

let env: TestStack;
let appDb: Db;
let a: SeededTenant;
let b: SeededTenant;
/** The console is served from the API's host on another port: the origin a browser sends. */
let consoleOrigin: string;

beforeAll(async () => {
  env = await startTestStack();
  appDb = createDb(env.stack.appDatabaseUrl, { max: 2 });
  a = await seedTwoCopyTenant(env, 'sessions-a');
  b = await seedTwoCopyTenant(env, 'sessions-b');
  consoleOrigin = `${new URL(env.apiUrl).protocol}//${new URL(env.apiUrl).hostname}:3999`;
}, 240_000);

afterAll(async () => {
  await appDb?.$disconnect();
  await env?.stop();
});

interface SignedIn {
  cookie: string;
  token: string;
  csrfToken: string;
  setCookie: string;
}

async function signIn(apiKey: string, origin = consoleOrigin): Promise<SignedIn> {
  const response = await fetch(`${env.apiUrl}/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin },
    body: JSON.stringify({ apiKey }),
  });
  expect(response.status).toBe(201);
  const setCookie = response.headers.get('set-cookie') ?? '';
  const token = decodeURIComponent(/echelon_session=([^;]+)/.exec(setCookie)?.[1] ?? '');
  const body = (await response.json()) as { csrfToken: string };
  return { cookie: `echelon_session=${encodeURIComponent(token)}`, token, csrfToken: body.csrfToken, setCookie };
}

/** GraphQL over HTTP with the cookie only, as a browser sends it (the CSRF token when given). */
async function gqlWithCookie(
  cookie: string,
  query: string,
  options: {
    csrfToken?: string;
    origin?: string;
    variables?: Record<string, unknown>;
    headers?: Record<string, string>;
  } = {},
): Promise<{
  status: number;
  body: { data?: Record<string, unknown> | null; errors?: { extensions?: { code?: string } }[] };
}> {
  const response = await fetch(`${env.apiUrl}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      cookie,
      origin: options.origin ?? consoleOrigin,
      ...(options.csrfToken === undefined ? {} : { 'x-csrf-token': options.csrfToken }),
      ...options.headers,
    },
    body: JSON.stringify({ query, variables: options.variables ?? {} }),
  });
  return { status: response.status, body: (await response.json()) as never };
}

const codeOf = (result: Awaited<ReturnType<typeof gqlWithCookie>>) => result.body.errors?.[0]?.extensions?.code;

const VIEWER = '{ viewer { identity { externalId } tenant { id } permissions } }';
const CREATE_IDENTITY = 'mutation($input: CreateIdentityInput!) { createIdentity(input: $input) { id } }';

async function newKeyFor(
  tenant: SeededTenant,
  roles: string[],
): Promise<{ identityId: string; keyId: string; secret: string }> {
  const { createIdentity } = await gqlOk<{ createIdentity: { id: string } }>(
    env.apiUrl,
    tenant.apiKey,
    CREATE_IDENTITY,
    {
      input: { externalId: `sess-${randomUUID().slice(0, 8)}`, displayName: 'Session tester', roles },
    },
  );
  const { createApiKey } = await gqlOk<{ createApiKey: { secret: string; apiKey: { id: string } } }>(
    env.apiUrl,
    tenant.apiKey,
    'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { id } } }',
    { input: { identityId: createIdentity.id, name: 'session test' } },
  );
  return { identityId: createIdentity.id, keyId: createApiKey.apiKey.id, secret: createApiKey.secret };
}

describe('console sessions', () => {
  it('exchanges the API key for an httpOnly, SameSite=Strict cookie that the API accepts with its CSRF token', async () => {
    const session = await signIn(a.apiKey);
    expect(session.setCookie).toMatch(/HttpOnly/i);
    expect(session.setCookie).toMatch(/SameSite=Strict/i);
    expect(session.setCookie).toMatch(/Path=\//);
    // Plain http here: Secure would make the browser drop it.
    expect(session.setCookie).not.toMatch(/Secure/i);
    expect(session.token).not.toContain(a.apiKey);
    const stored = await env.db.$queryRaw<{ secret_hash: string }[]>`SELECT secret_hash FROM sessions`;
    expect(stored.some((row) => session.token.includes(row.secret_hash))).toBe(false);

    const viewer = await gqlWithCookie(session.cookie, VIEWER, { csrfToken: session.csrfToken });
    expect(viewer.body.errors).toBeUndefined();
    expect(viewer.body.data?.viewer).toMatchObject({
      identity: { externalId: a.adminExternalId },
      tenant: { id: a.tenant.id },
    });
    expect((viewer.body.data?.viewer as { permissions: string[] } | undefined)?.permissions).toContain('policy:write');

    // GET /session gives the CSRF token back after a reload; only the console's origin may read it with credentials.
    const again = await fetch(`${env.apiUrl}/session`, { headers: { cookie: session.cookie, origin: consoleOrigin } });
    expect(again.status).toBe(200);
    expect(((await again.json()) as { csrfToken: string }).csrfToken).toBe(session.csrfToken);
    expect(again.headers.get('access-control-allow-credentials')).toBe('true');
    const foreign = await fetch(`${env.apiUrl}/session`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' },
    });
    expect(foreign.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('refuses a cross-site request without the CSRF token, and changes nothing', async () => {
    const session = await signIn(a.apiKey);
    const countIdentities = async () =>
      (await tenantDb(appDb, a.tenant.id).identity.count({ where: { tenantId: a.tenant.id } })) as number;
    const before = await countIdentities();
    const input = {
      input: { externalId: `csrf-${randomUUID().slice(0, 8)}`, displayName: 'CSRF', roles: ['TENANT_ADMIN'] },
    };

    // The cookie alone (what a forged form or fetch from another page would carry): refused.
    const noToken = await gqlWithCookie(session.cookie, CREATE_IDENTITY, { variables: input });
    expect(noToken.status).toBe(403);
    expect(codeOf(noToken)).toBe('FORBIDDEN');
    // A wrong token: refused.
    const wrongToken = await gqlWithCookie(session.cookie, CREATE_IDENTITY, {
      variables: input,
      csrfToken: 'x'.repeat(43),
    });
    expect(wrongToken.status).toBe(403);
    // Even the right token from another site's page: refused.
    const otherSite = await gqlWithCookie(session.cookie, CREATE_IDENTITY, {
      variables: input,
      csrfToken: session.csrfToken,
      origin: 'https://evil.example',
    });
    expect(otherSite.status).toBe(403);
    const fetchMetadata = await gqlWithCookie(session.cookie, CREATE_IDENTITY, {
      variables: input,
      csrfToken: session.csrfToken,
      headers: { 'sec-fetch-site': 'cross-site' },
    });
    expect(fetchMetadata.status).toBe(403);
    expect(await countIdentities()).toBe(before);

    // Signing in from another site's page (login CSRF) is refused too.
    const foreignSignIn = await fetch(`${env.apiUrl}/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'https://evil.example' },
      body: JSON.stringify({ apiKey: a.apiKey }),
    });
    expect(foreignSignIn.status).toBe(403);
    expect(foreignSignIn.headers.get('set-cookie')).toBeNull();
    // Sign-out without the token is refused and leaves the session working.
    const signOut = await fetch(`${env.apiUrl}/session`, { method: 'DELETE', headers: { cookie: session.cookie } });
    expect(signOut.status).toBe(403);
    expect(codeOf(await gqlWithCookie(session.cookie, VIEWER, { csrfToken: session.csrfToken }))).toBeUndefined();

    // With the token from the console's origin, the same mutation goes through.
    const ok = await gqlWithCookie(session.cookie, CREATE_IDENTITY, { variables: input, csrfToken: session.csrfToken });
    expect(ok.body.errors).toBeUndefined();
    expect(await countIdentities()).toBe(before + 1);
  });

  it('refuses a signed-out session, an expired one, and one whose API key was revoked', async () => {
    const signedOut = await signIn(a.apiKey);
    const out = await fetch(`${env.apiUrl}/session`, {
      method: 'DELETE',
      headers: { cookie: signedOut.cookie, origin: consoleOrigin, 'x-csrf-token': signedOut.csrfToken },
    });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(/Max-Age=0/);
    expect(codeOf(await gqlWithCookie(signedOut.cookie, VIEWER, { csrfToken: signedOut.csrfToken }))).toBe(
      'UNAUTHENTICATED',
    );
    expect((await fetch(`${env.apiUrl}/session`, { headers: { cookie: signedOut.cookie } })).status).toBe(401);

    const expired = await signIn(a.apiKey);
    await env.db
      .$executeRaw`UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = ${expired.token.split('.')[0]}::uuid`;
    expect(codeOf(await gqlWithCookie(expired.cookie, VIEWER, { csrfToken: expired.csrfToken }))).toBe(
      'UNAUTHENTICATED',
    );

    const key = await newKeyFor(a, ['OPERATOR']);
    const keyed = await signIn(key.secret);
    expect(codeOf(await gqlWithCookie(keyed.cookie, VIEWER, { csrfToken: keyed.csrfToken }))).toBeUndefined();
    await gqlOk(env.apiUrl, a.apiKey, 'mutation($id: ID!) { revokeApiKey(id: $id) { id } }', { id: key.keyId });
    expect(codeOf(await gqlWithCookie(keyed.cookie, VIEWER, { csrfToken: keyed.csrfToken }))).toBe('UNAUTHENTICATED');
  });

  it('refuses forged cookies', async () => {
    const session = await signIn(a.apiKey);
    const [id, secret] = session.token.split('.') as [string, string];
    const flipped = `${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`;
    const forgeries = [
      `${id}.${flipped}`,
      `${randomUUID()}.${randomBytes(32).toString('base64url')}`,
      `${id}.`,
      id,
      'not-a-session',
    ];
    for (const forged of forgeries) {
      // The CSRF token that goes with the forged value: only the session's secret is missing.
      const result = await gqlWithCookie(`echelon_session=${encodeURIComponent(forged)}`, VIEWER, {
        csrfToken: csrfTokenFor(forged),
      });
      expect(codeOf(result), forged).toBe('UNAUTHENTICATED');
    }
    // The genuine one still works.
    expect(codeOf(await gqlWithCookie(session.cookie, VIEWER, { csrfToken: session.csrfToken }))).toBeUndefined();
  });

  it("keeps another tenant's data and sessions invisible to a session", async () => {
    const session = await signIn(a.apiKey);
    const bSession = await signIn(b.apiKey);
    const csrfToken = session.csrfToken;
    const identities = await gqlWithCookie(session.cookie, '{ identities { id } }', { csrfToken });
    const ids = ((identities.body.data?.identities ?? []) as { id: string }[]).map((identity) => identity.id);
    expect(ids).toContain(a.adminIdentityId);
    expect(ids).not.toContain(b.adminIdentityId);
    const template = await gqlWithCookie(session.cookie, 'query($id: ID!) { policyTemplate(id: $id) { id } }', {
      csrfToken,
      variables: { id: b.template.templateId },
    });
    expect(template.body.data?.policyTemplate ?? null).toBeNull();
    const systems = await gqlWithCookie(session.cookie, '{ storageSystems { id } }', { csrfToken });
    const systemIds = ((systems.body.data?.storageSystems ?? []) as { id: string }[]).map((system) => system.id);
    expect(systemIds.length).toBeGreaterThan(0);
    expect(systemIds.some((systemId) => b.storageSystems.some((system) => system.id === systemId))).toBe(false);

    // Row-level security: as the application role in A, B's session rows do not exist.
    const bSessionId = bSession.token.split('.')[0] ?? '';
    expect(await tenantDb(appDb, a.tenant.id).session.findMany({ where: { id: bSessionId } })).toEqual([]);
    expect(await tenantDb(appDb, b.tenant.id).session.count({ where: { id: bSessionId } })).toBe(1);
    // A's session cannot sign B's session out: the row it revokes is its own.
    await fetch(`${env.apiUrl}/session`, {
      method: 'DELETE',
      headers: { cookie: session.cookie, origin: consoleOrigin, 'x-csrf-token': session.csrfToken },
    });
    expect(codeOf(await gqlWithCookie(bSession.cookie, VIEWER, { csrfToken: bSession.csrfToken }))).toBeUndefined();
  });

  it('accepts the cookie on graphql-ws only with the CSRF token, and closes the socket on sign-out', async () => {
    const session = await signIn(a.apiKey);
    class CookieSocket extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols, { headers: { cookie: session.cookie, origin: consoleOrigin } });
      }
    }
    const connect = (connectionParams: Record<string, unknown>) =>
      new Promise<{ closeCode?: number; acknowledged: boolean; client: ReturnType<typeof createClient> }>((resolve) => {
        const client = createClient({
          url: `${env.apiUrl.replace(/^http/, 'ws')}/graphql`,
          webSocketImpl: CookieSocket,
          connectionParams,
          retryAttempts: 0,
          lazy: false,
          onNonLazyError: () => undefined,
        });
        client.on('connected', () => resolve({ acknowledged: true, client }));
        client.on('closed', (event) =>
          resolve({ acknowledged: false, closeCode: (event as { code: number }).code, client }),
        );
      });
    const refused = await connect({});
    expect(refused.acknowledged).toBe(false);
    expect(refused.closeCode).toBe(4403);
    await refused.client.dispose();

    const accepted = await connect({ csrfToken: session.csrfToken });
    expect(accepted.acknowledged).toBe(true);
    const closed = new Promise<number>((resolve) =>
      accepted.client.on('closed', (event) => resolve((event as { code: number }).code)),
    );
    await fetch(`${env.apiUrl}/session`, {
      method: 'DELETE',
      headers: { cookie: session.cookie, origin: consoleOrigin, 'x-csrf-token': session.csrfToken },
    });
    expect(await closed).toBe(4401);
    await accepted.client.dispose();
  });
});
