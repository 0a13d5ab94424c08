import { createHash } from 'node:crypto';
import { DomainError } from '@echelon/domain';
import { hashSecret, isLegacyHash, prefixOf, verifySecret } from '../api-keys.js';
import { type Db, tenantDb } from '../client.js';
import type { Identity, Role, Tenant } from '../generated/prisma/client.js';
import type { ApiKeyWithIdentity } from './admin.js';
import { type Actor, appendAudit } from './audit.js';

export async function findIdentity(db: Db, tenantId: string, identityId: string): Promise<Identity | null> {
  return db.identity.findFirst({ where: { id: identityId, tenantId } });
}

export interface KeyHolder {
  apiKeyId: string;
  tenant: Tenant;
  identity: Identity;
}

/** A verified key's holder is reused this long; a revocation anywhere forgets it at once (see forgetApiKey). */
const HOLDER_TTL_MS = 15_000;
const MAX_HOLDERS = 10_000;

/** Verified holders by the secret's digest (never the secret itself), oldest first. */
const holders = new Map<string, { holder: KeyHolder; until: number }>();
/** Sign-ins of one secret in flight share one lookup: a burst of requests with a new key verifies it once. */
const lookups = new Map<string, Promise<KeyHolder | undefined>>();

/** Counts forgettings: a lookup that began before one may have read a key as it was before its revocation. */
let forgotten = 0;

const digestOf = (secret: string) => createHash('sha256').update(secret).digest('base64url');

/**
 * Forgets the holders of a revoked key, so its next request is refused: called by the process that revoked it
 * and, through the `api_keys` NOTIFY, by every other API process.
 */
export function forgetApiKey(apiKeyId: string): void {
  forgotten += 1;
  for (const [digest, entry] of holders) if (entry.holder.apiKeyId === apiKeyId) holders.delete(digest);
}

/** Forgets the holders of every key of one identity, so its next request is read with its changed roles. */
export function forgetIdentity(identityId: string): void {
  forgotten += 1;
  for (const [digest, entry] of holders) if (entry.holder.identity.id === identityId) holders.delete(digest);
}

/** Forgets every holder: when revocation notices may have been missed (the LISTEN connection was lost). */
export function forgetAllApiKeys(): void {
  forgotten += 1;
  holders.clear();
}

/**
 * Finds the identity behind an API key secret. A verified holder is kept for a few seconds, forgotten at once
 * when its key is revoked (forgetApiKey), so a busy integration does not pay three reads per request.
 */
export async function authenticateApiKey(db: Db, secret: string): Promise<KeyHolder | undefined> {
  const prefix = prefixOf(secret);
  if (prefix === undefined) return undefined;
  const digest = digestOf(secret);
  const kept = holders.get(digest);
  if (kept !== undefined && kept.until > Date.now()) return kept.holder;
  const generation = forgotten;
  let lookup = lookups.get(digest);
  if (lookup === undefined) {
    lookup = lookUpApiKey(db, prefix, secret).finally(() => lookups.delete(digest));
    lookups.set(digest, lookup);
  }
  const holder = await lookup;
  if (holder !== undefined && generation === forgotten) {
    holders.delete(digest);
    holders.set(digest, { holder, until: Date.now() + HOLDER_TTL_MS });
    if (holders.size > MAX_HOLDERS) holders.delete(holders.keys().next().value as string);
  }
  return holder;
}

async function lookUpApiKey(db: Db, prefix: string, secret: string): Promise<KeyHolder | undefined> {
  // The one read across tenants (a security-definer function: no tenant is known before the key is).
  const [key] = await db.$queryRaw<
    { id: string; tenant_id: string; identity_id: string; secret_hash: string; revoked_at: Date | null }[]
  >`SELECT * FROM echelon_api_key_by_prefix(${prefix})`;
  if (key === undefined || key.revoked_at !== null) return undefined;
  if (!(await verifySecret(secret, key.secret_hash))) return undefined;
  // From here on, the key's own tenant only.
  const scoped = tenantDb(db, key.tenant_id);
  if (isLegacyHash(key.secret_hash)) {
    await scoped.apiKey.updateMany({
      where: { id: key.id, secretHash: key.secret_hash },
      data: { secretHash: await hashSecret(secret) },
    });
  }
  const identity = await scoped.identity.findUnique({ where: { id: key.identity_id }, include: { tenant: true } });
  if (identity === null) return undefined;
  const { tenant, ...rest } = identity;
  return { apiKeyId: key.id, tenant, identity: rest };
}

/** The tenant an identity belongs to (platform administrators name identities of any tenant); null if none. */
export async function tenantIdOfIdentity(db: Db, identityId: string): Promise<string | null> {
  const identity = await db.identity.findFirst({ where: { id: identityId }, select: { tenantId: true } });
  return identity?.tenantId ?? null;
}

/** The tenant an API key belongs to; null if there is no such key. */
export async function tenantIdOfApiKey(db: Db, apiKeyId: string): Promise<string | null> {
  const key = await db.apiKey.findFirst({ where: { id: apiKeyId }, select: { tenantId: true } });
  return key?.tenantId ?? null;
}

/** A tenant's API keys (revoked ones too, with their revocation time), newest first; one identity's if named. */
export const listApiKeys = (db: Db, tenantId: string, identityId?: string): Promise<ApiKeyWithIdentity[]> =>
  db.apiKey.findMany({
    where: { tenantId, ...(identityId === undefined ? {} : { identityId }) },
    include: { identity: true },
    orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
  });

export interface IdentityChanges {
  displayName?: string;
  roles?: Role[];
  groups?: string[];
}

/**
 * Changes an identity's name, roles or groups in one audited transaction (before and after in the entry). The new
 * roles hold for its next request in this process; other API processes read them when their cached holder
 * expires (seconds).
 */
export async function updateIdentityAudited(
  db: Db,
  actor: Actor,
  tenantId: string,
  identityId: string,
  changes: IdentityChanges,
): Promise<Identity> {
  const updated = await db.$transaction(async (client) => {
    const before = await client.identity.findFirst({ where: { id: identityId, tenantId } });
    if (before === null) throw new DomainError('NOT_FOUND', `identity ${identityId} does not exist in this tenant`);
    const after = await client.identity.update({ where: { id: identityId }, data: changes });
    await appendAudit(client, actor, {
      tenantId,
      action: 'identity.update',
      objectType: 'Identity',
      objectId: identityId,
      before: { displayName: before.displayName, roles: before.roles, groups: before.groups },
      after: { displayName: after.displayName, roles: after.roles, groups: after.groups },
    });
    return after;
  });
  forgetIdentity(identityId);
  return updated;
}

/**
 * Disables an identity's sign-in: every API key it holds is revoked at once, in one audited transaction, and with
 * them its console sessions and open connections. An identity without an active key is a CONFLICT (nothing to
 * disable); issuing it a new key lets it sign in again.
 */
export async function disableIdentityAudited(
  db: Db,
  actor: Actor,
  tenantId: string,
  identityId: string,
): Promise<{ identity: Identity; revokedKeyIds: string[] }> {
  const result = await db.$transaction(async (client) => {
    const identity = await client.identity.findFirst({ where: { id: identityId, tenantId } });
    if (identity === null) throw new DomainError('NOT_FOUND', `identity ${identityId} does not exist in this tenant`);
    const active = await client.apiKey.findMany({
      where: { tenantId, identityId, revokedAt: null },
      select: { id: true },
      orderBy: { id: 'asc' },
    });
    if (active.length === 0) {
      throw new DomainError(
        'CONFLICT',
        `identity ${identity.externalId} has no active API key: it cannot sign in already`,
      );
    }
    const revokedKeyIds = active.map((key) => key.id);
    const revokedAt = new Date();
    await client.apiKey.updateMany({ where: { id: { in: revokedKeyIds }, revokedAt: null }, data: { revokedAt } });
    await appendAudit(client, actor, {
      tenantId,
      action: 'identity.disable',
      objectType: 'Identity',
      objectId: identityId,
      before: { activeApiKeyIds: revokedKeyIds },
      after: { activeApiKeyIds: [], revokedAt },
    });
    return { identity, revokedKeyIds };
  });
  // This process forgets them now; the others when the api_keys NOTIFY (one per key) reaches them.
  for (const id of result.revokedKeyIds) forgetApiKey(id);
  return result;
}
