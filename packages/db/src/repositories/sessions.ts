import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { type Db, tenantDb } from '../client.js';
import type { Identity, Tenant } from '../generated/prisma/client.js';

/** What a browser's session cookie holds: the session's id and a secret of 256 random bits, `<uuid>.<secret>`. */
export interface IssuedSession {
  sessionId: string;
  /** The cookie value; shown once and stored only as a hash. */
  token: string;
  expiresAt: Date;
}

export interface SessionHolder {
  sessionId: string;
  apiKeyId: string;
  tenant: Tenant;
  identity: Identity;
  expiresAt: Date;
}

const TOKEN = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.([A-Za-z0-9_-]{43})$/;

const hashOf = (secret: string): Buffer => createHash('sha256').update(secret).digest();

/** The session id inside a well-formed cookie value, or undefined for anything else. */
export function sessionIdOf(token: string): string | undefined {
  return TOKEN.exec(token)?.[1];
}

/**
 * Opens a session for a verified API key's holder. A 256-bit secret needs no slow hash (nothing to guess), so the
 * row keeps its sha256.
 */
export async function createSession(
  db: Db,
  holder: { tenantId: string; identityId: string; apiKeyId: string },
  ttlSeconds: number,
): Promise<IssuedSession> {
  const secret = randomBytes(32).toString('base64url');
  const expiresAt = new Date(Date.now() + ttlSeconds * 1000);
  const row = await tenantDb(db, holder.tenantId).session.create({
    data: {
      tenantId: holder.tenantId,
      identityId: holder.identityId,
      apiKeyId: holder.apiKeyId,
      secretHash: hashOf(secret).toString('hex'),
      expiresAt,
    },
    select: { id: true },
  });
  return { sessionId: row.id, token: `${row.id}.${secret}`, expiresAt };
}

/**
 * The holder of a session cookie: undefined when it is malformed, unknown, forged (wrong secret), expired,
 * revoked, or opened with an API key that has since been revoked.
 */
export async function authenticateSession(db: Db, token: string): Promise<SessionHolder | undefined> {
  const match = TOKEN.exec(token);
  const sessionId = match?.[1];
  const secret = match?.[2];
  if (sessionId === undefined || secret === undefined) return undefined;
  // The one read across tenants (a security-definer function: no tenant is known before the session is).
  const [row] = await db.$queryRaw<
    {
      id: string;
      tenant_id: string;
      identity_id: string;
      api_key_id: string;
      secret_hash: string;
      expires_at: Date;
      revoked_at: Date | null;
      key_revoked_at: Date | null;
    }[]
  >`SELECT * FROM echelon_session_by_id(${sessionId}::uuid)`;
  if (row === undefined || row.revoked_at !== null || row.key_revoked_at !== null) return undefined;
  if (row.expires_at.getTime() <= Date.now()) return undefined;
  const expected = Buffer.from(row.secret_hash, 'hex');
  const actual = hashOf(secret);
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return undefined;
  const identity = await tenantDb(db, row.tenant_id).identity.findUnique({
    where: { id: row.identity_id },
    include: { tenant: true },
  });
  if (identity === null) return undefined;
  const { tenant, ...rest } = identity;
  return { sessionId: row.id, apiKeyId: row.api_key_id, tenant, identity: rest, expiresAt: row.expires_at };
}

/** Ends a session (sign-out). Revoking twice is harmless; another tenant's session is never reached. */
export async function revokeSession(db: Db, tenantId: string, sessionId: string): Promise<boolean> {
  const { count } = await tenantDb(db, tenantId).session.updateMany({
    where: { id: sessionId, tenantId, revokedAt: null },
    data: { revokedAt: new Date() },
  });
  return count > 0;
}
