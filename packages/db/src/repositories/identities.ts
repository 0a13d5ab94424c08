import { generateApiSecret, hashSecret, prefixOf, verifySecret } from '../api-keys.js';
import type { Db } from '../client.js';
import type { Identity, Role, Tenant } from '../generated/prisma/client.js';

export interface CreatedKey {
  apiKeyId: string;
  secret: string;
  prefix: string;
}

export async function createTenant(db: Db, input: { slug: string; name: string }): Promise<Tenant> {
  return db.tenant.create({ data: { slug: input.slug, name: input.name } });
}

export async function createIdentity(
  db: Db,
  tenantId: string,
  input: { externalId: string; displayName: string; roles: Role[]; groups?: string[] },
): Promise<Identity> {
  return db.identity.create({
    data: {
      tenantId,
      externalId: input.externalId,
      displayName: input.displayName,
      roles: input.roles,
      groups: input.groups ?? [],
    },
  });
}

export async function findIdentity(db: Db, tenantId: string, identityId: string): Promise<Identity | null> {
  return db.identity.findFirst({ where: { id: identityId, tenantId } });
}

/** Issues an API key; only the hash is stored, the secret is returned once. */
export async function createApiKey(
  db: Db,
  tenantId: string,
  input: { identityId: string; name: string },
): Promise<CreatedKey> {
  const { secret, prefix } = generateApiSecret();
  const key = await db.apiKey.create({
    data: { tenantId, identityId: input.identityId, name: input.name, prefix, secretHash: await hashSecret(secret) },
  });
  return { apiKeyId: key.id, secret, prefix };
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
