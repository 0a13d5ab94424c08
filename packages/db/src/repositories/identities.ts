import { prefixOf, verifySecret } from '../api-keys.js';
import { type Db, tenantDb } from '../client.js';
import type { Identity, Tenant } from '../generated/prisma/client.js';

export async function findIdentity(db: Db, tenantId: string, identityId: string): Promise<Identity | null> {
  return db.identity.findFirst({ where: { id: identityId, tenantId } });
}

export interface KeyHolder {
  apiKeyId: string;
  tenant: Tenant;
  identity: Identity;
}

/**
 * Finds the identity behind an API key secret. The row is read on every call so that revocation takes effect
 * at once; the expensive hash check is cached per (key, secret) for verified pairs only.
 */
export async function authenticateApiKey(db: Db, secret: string): Promise<KeyHolder | undefined> {
  const prefix = prefixOf(secret);
  if (prefix === undefined) return undefined;
  // The one read across tenants (a security-definer function: no tenant is known before the key is).
  const [key] = await db.$queryRaw<
    { id: string; tenant_id: string; identity_id: string; secret_hash: string; revoked_at: Date | null }[]
  >`SELECT * FROM echelon_api_key_by_prefix(${prefix})`;
  if (key === undefined || key.revoked_at !== null) return undefined;
  const cacheKey = `${key.id}:${secret}`;
  if (!VERIFIED.has(cacheKey)) {
    if (!(await verifySecret(secret, key.secret_hash))) return undefined;
    if (VERIFIED.size > 10_000) VERIFIED.clear();
    VERIFIED.add(cacheKey);
  }
  // From here on, the key's own tenant only.
  const identity = await tenantDb(db, key.tenant_id).identity.findUnique({
    where: { id: key.identity_id },
    include: { tenant: true },
  });
  if (identity === null) return undefined;
  const { tenant, ...rest } = identity;
  return { apiKeyId: key.id, tenant, identity: rest };
}

/** Jobs in every tenant whose workflow may never have been started (an API process resumes them when it starts). */
export const pendingJobs = (db: Db): Promise<{ id: string; tenant_id: string }[]> =>
  db.$queryRaw`SELECT * FROM echelon_pending_jobs()`;

const VERIFIED = new Set<string>();
