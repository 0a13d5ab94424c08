import { prefixOf, verifySecret } from '../api-keys.js';
import type { Db } from '../client.js';
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
  const key = await db.apiKey.findUnique({ where: { prefix }, include: { identity: true, tenant: true } });
  if (key === null || key.revokedAt !== null) return undefined;
  const cacheKey = `${key.id}:${secret}`;
  if (!VERIFIED.has(cacheKey)) {
    if (!(await verifySecret(secret, key.secretHash))) return undefined;
    if (VERIFIED.size > 10_000) VERIFIED.clear();
    VERIFIED.add(cacheKey);
  }
  return { apiKeyId: key.id, tenant: key.tenant, identity: key.identity };
}

const VERIFIED = new Set<string>();
