import {
  DomainError,
  FILESYSTEM_ROOT_TAKEN,
  type SpaceInput,
  type ValidTemplate,
  validateAssignment,
  type AssignmentInput,
} from '@echelon/domain';
import { randomUUID } from 'node:crypto';
import { generateApiSecret, hashSecret } from '../api-keys.js';
import type { Db } from '../client.js';
import type {
  ApiKey,
  Identity,
  PolicyAssignment,
  PolicyTemplateVersion,
  Prisma,
  Role,
  StorageKind,
  Tenant,
} from '../generated/prisma/client.js';
import { type Actor, appendAudit } from './audit.js';
import { forgetApiKey } from './identities.js';
import {
  isFilesystemRootTaken,
  requireSecretKey,
  sealStorageSecrets,
  type StorageSecrets,
  type StorageSystemWithSpaces,
} from './storage.js';

/** A unique-constraint violation becomes CONFLICT with a message that says what clashed. */
async function conflictOnDuplicate<T>(work: Promise<T>, message: string): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if ((error as { code?: string }).code === 'P2002') throw new DomainError('CONFLICT', message);
    throw error;
  }
}

const tx = <T>(db: Db, work: (client: Prisma.TransactionClient) => Promise<T>) => db.$transaction(work);

// ── tenants ────────────────────────────────────────────────────────────────────────────────────────────

export async function createTenantAudited(
  db: Db,
  actor: Actor,
  input: { slug: string; name: string },
): Promise<Tenant> {
  return conflictOnDuplicate(
    tx(db, async (client) => {
      const tenant = await client.tenant.create({ data: input });
      // The entry belongs to the new tenant: this transaction acts in it from here on (row-level security).
      await client.$executeRaw`SELECT set_config('echelon.tenant_id', ${tenant.id}, true)`;
      await appendAudit(client, actor, {
        tenantId: tenant.id,
        action: 'tenant.create',
        objectType: 'Tenant',
        objectId: tenant.id,
        after: tenant,
      });
      return tenant;
    }),
    `a tenant with slug "${input.slug}" already exists`,
  );
}

export const listTenants = (db: Db): Promise<Tenant[]> => db.tenant.findMany({ orderBy: { createdAt: 'asc' } });
export const findTenant = (db: Db, id: string): Promise<Tenant | null> => db.tenant.findUnique({ where: { id } });

// ── identities and API keys ────────────────────────────────────────────────────────────────────────────

export async function createIdentityAudited(
  db: Db,
  actor: Actor,
  tenantId: string,
  input: { externalId: string; displayName: string; roles: Role[]; groups: string[] },
): Promise<Identity> {
  return conflictOnDuplicate(
    tx(db, async (client) => {
      const identity = await client.identity.create({ data: { tenantId, ...input } });
      await appendAudit(client, actor, {
        tenantId,
        action: 'identity.create',
        objectType: 'Identity',
        objectId: identity.id,
        after: identity,
      });
      return identity;
    }),
    `an identity with externalId "${input.externalId}" already exists in this tenant`,
  );
}

export const listIdentities = (db: Db, tenantId: string): Promise<Identity[]> =>
  db.identity.findMany({ where: { tenantId }, orderBy: [{ createdAt: 'asc' }, { externalId: 'asc' }] });

export type ApiKeyWithIdentity = ApiKey & { identity: Identity };

export async function createApiKeyAudited(
  db: Db,
  actor: Actor,
  tenantId: string,
  input: { identityId: string; name: string },
): Promise<{ apiKey: ApiKeyWithIdentity; secret: string }> {
  const identity = await db.identity.findFirst({ where: { id: input.identityId, tenantId } });
  if (identity === null)
    throw new DomainError('NOT_FOUND', `identity ${input.identityId} does not exist in this tenant`);
  const { secret, prefix } = generateApiSecret();
  const secretHash = await hashSecret(secret);
  const apiKey = await tx(db, async (client) => {
    const created = await client.apiKey.create({
      data: { tenantId, identityId: identity.id, name: input.name, prefix, secretHash },
      include: { identity: true },
    });
    await appendAudit(client, actor, {
      tenantId,
      action: 'apiKey.create',
      objectType: 'ApiKey',
      objectId: created.id,
      after: { id: created.id, name: created.name, prefix, identityId: identity.id },
    });
    return created;
  });
  return { apiKey, secret };
}

/** Revokes a key at once: every later request with it is UNAUTHENTICATED. Revoking twice is a CONFLICT. */
export async function revokeApiKeyAudited(
  db: Db,
  actor: Actor,
  tenantId: string,
  id: string,
): Promise<ApiKeyWithIdentity> {
  const revoked = await tx(db, async (client) => {
    const key = await client.apiKey.findFirst({ where: { id, tenantId } });
    if (key === null) throw new DomainError('NOT_FOUND', `API key ${id} does not exist in this tenant`);
    if (key.revokedAt !== null)
      throw new DomainError('CONFLICT', `API key ${id} was already revoked at ${key.revokedAt.toISOString()}`);
    const revoked = await client.apiKey.update({
      where: { id },
      data: { revokedAt: new Date() },
      include: { identity: true },
    });
    await appendAudit(client, actor, {
      tenantId,
      action: 'apiKey.revoke',
      objectType: 'ApiKey',
      objectId: id,
      before: { revokedAt: null },
      after: { revokedAt: revoked.revokedAt },
    });
    return revoked;
  });
  // This process forgets it now; the others when the api_keys NOTIFY reaches them.
  forgetApiKey(id);
  return revoked;
}

// ── storage systems ────────────────────────────────────────────────────────────────────────────────────

/**
 * Registers a storage system with its spaces and an audit entry. `secrets` (S3: `{ secretAccessKey }`) are sealed
 * with `secretKey` into `secret_config`; `config` must hold no secret, since it is stored and audited as it is.
 */
/** The advisory lock FILESYSTEM registrations take in turn (an arbitrary, fixed number). */
const FILESYSTEM_REGISTRATION_LOCK = 7_301_202_612;

export async function createStorageSystemAudited(
  db: Db,
  actor: Actor,
  tenantId: string,
  input: {
    name: string;
    kind: StorageKind;
    config: Record<string, unknown>;
    spaces: SpaceInput[];
    healthy: boolean;
    secrets?: StorageSecrets;
    secretKey?: Buffer | undefined;
  },
): Promise<StorageSystemWithSpaces> {
  // The id is chosen here so that the sealed secrets can be bound to this very row.
  const id = randomUUID();
  const secretConfig =
    input.secrets === undefined
      ? null
      : sealStorageSecrets(
          requireSecretKey(input.secretKey, `registering ${input.kind} storage with credentials`),
          tenantId,
          id,
          input.secrets,
        );
  return conflictOnDuplicate(
    tx(db, async (client) => {
      if (input.kind === 'FILESYSTEM') {
        // Registrations of FILESYSTEM roots take turns, so that two overlapping ones sent at once cannot both pass
        // the overlap check (which the API also makes before it touches the disk).
        await client.$executeRaw`SELECT pg_advisory_xact_lock(${FILESYSTEM_REGISTRATION_LOCK})`;
        if (await isFilesystemRootTaken(client, [String(input.config.root)])) {
          throw new DomainError('BAD_USER_INPUT', FILESYSTEM_ROOT_TAKEN, { field: 'config.root' });
        }
      }
      const system = await client.storageSystem.create({
        data: {
          id,
          tenantId,
          name: input.name,
          kind: input.kind,
          config: input.config as Prisma.InputJsonValue,
          secretConfig,
          healthy: input.healthy,
          spaces: {
            create: input.spaces.map((space) => ({
              tenantId,
              name: space.name,
              capacityBytes: BigInt(space.capacityBytes),
            })),
          },
        },
        include: { spaces: { orderBy: [{ createdAt: 'asc' }, { name: 'asc' }] } },
      });
      await appendAudit(client, actor, {
        tenantId,
        action: 'storageSystem.create',
        objectType: 'StorageSystem',
        objectId: system.id,
        // Not even the ciphertext goes into the audit trail.
        after: { ...system, secretConfig: undefined },
      });
      return system;
    }),
    `a storage system named "${input.name}" already exists in this tenant`,
  );
}

export async function setStorageHealth(db: Db, tenantId: string, id: string, healthy: boolean): Promise<void> {
  await db.storageSystem.updateMany({ where: { id, tenantId }, data: { healthy } });
}

/**
 * Records the outcome of a connection check: `healthy` changes (with an audit entry) only when it differs, so
 * checks that find nothing new leave no trace. Returns the system as it is now.
 */
export async function setStorageHealthAudited(
  db: Db,
  actor: Actor,
  tenantId: string,
  id: string,
  healthy: boolean,
  reason: string | null,
): Promise<StorageSystemWithSpaces> {
  return tx(db, async (client) => {
    const current = await client.storageSystem.findFirst({ where: { id, tenantId } });
    if (current === null) throw new DomainError('NOT_FOUND', `storage system ${id} does not exist in this tenant`);
    if (current.healthy !== healthy) {
      await client.storageSystem.update({ where: { id }, data: { healthy } });
      await appendAudit(client, actor, {
        tenantId,
        action: 'storageSystem.check',
        objectType: 'StorageSystem',
        objectId: id,
        before: { healthy: current.healthy },
        after: { healthy, ...(reason === null ? {} : { reason }) },
      });
    }
    return client.storageSystem.findFirstOrThrow({
      where: { id, tenantId },
      include: { spaces: { orderBy: [{ createdAt: 'asc' }, { name: 'asc' }] } },
    });
  });
}

// ── policy templates and assignments ───────────────────────────────────────────────────────────────────

export async function createPolicyTemplateAudited(
  db: Db,
  actor: Actor,
  tenantId: string,
  input: ValidTemplate,
): Promise<PolicyTemplateVersion> {
  return conflictOnDuplicate(
    tx(db, async (client) => {
      const template = await client.policyTemplate.create({ data: { tenantId, name: input.name, latestVersion: 1 } });
      const version = await client.policyTemplateVersion.create({
        data: { tenantId, templateId: template.id, version: 1, ...input },
      });
      await appendAudit(client, actor, {
        tenantId,
        action: 'policyTemplate.create',
        objectType: 'PolicyTemplate',
        objectId: template.id,
        after: version,
      });
      return version;
    }),
    `a policy template named "${input.name}" already exists in this tenant`,
  );
}

/** Publishes version + 1; earlier versions stay as they were, and jobs keep the version they ran with. */
export async function updatePolicyTemplateAudited(
  db: Db,
  actor: Actor,
  tenantId: string,
  templateId: string,
  input: ValidTemplate,
): Promise<PolicyTemplateVersion> {
  return conflictOnDuplicate(
    tx(db, async (client) => {
      const [locked] = await client.$queryRaw<{ latest_version: number }[]>`
        SELECT latest_version FROM policy_templates WHERE id = ${templateId}::uuid AND tenant_id = ${tenantId}::uuid FOR UPDATE`;
      if (locked === undefined)
        throw new DomainError('NOT_FOUND', `policy template ${templateId} does not exist in this tenant`);
      const before = await client.policyTemplateVersion.findFirstOrThrow({
        where: { templateId, version: locked.latest_version },
      });
      const next = locked.latest_version + 1;
      await client.policyTemplate.update({
        where: { id: templateId },
        data: { latestVersion: next, name: input.name },
      });
      const version = await client.policyTemplateVersion.create({
        data: { tenantId, templateId, version: next, ...input },
      });
      await appendAudit(client, actor, {
        tenantId,
        action: 'policyTemplate.update',
        objectType: 'PolicyTemplate',
        objectId: templateId,
        before,
        after: version,
      });
      return version;
    }),
    `a policy template named "${input.name}" already exists in this tenant`,
  );
}

/** The latest version of each template of the tenant. */
export async function listLatestTemplateVersions(db: Db, tenantId: string): Promise<PolicyTemplateVersion[]> {
  const templates = await db.policyTemplate.findMany({
    where: { tenantId },
    orderBy: [{ createdAt: 'asc' }, { name: 'asc' }],
  });
  const versions = await db.policyTemplateVersion.findMany({
    where: {
      tenantId,
      OR: templates.map((template) => ({ templateId: template.id, version: template.latestVersion })),
    },
  });
  const byTemplate = new Map(versions.map((version) => [version.templateId, version]));
  return templates.flatMap((template) => byTemplate.get(template.id) ?? []);
}

export async function findTemplateVersionByNumber(
  db: Db,
  tenantId: string,
  templateId: string,
  version: number | null,
): Promise<PolicyTemplateVersion | null> {
  const template = await db.policyTemplate.findFirst({ where: { id: templateId, tenantId } }).catch(() => null);
  if (template === null) return null;
  return db.policyTemplateVersion.findFirst({
    where: { tenantId, templateId, version: version ?? template.latestVersion },
  });
}

export async function assignPolicyAudited(
  db: Db,
  actor: Actor,
  tenantId: string,
  input: AssignmentInput,
): Promise<PolicyAssignment> {
  const target = validateAssignment(input);
  const template = await db.policyTemplate.findFirst({ where: { id: input.templateId, tenantId } }).catch(() => null);
  if (template === null)
    throw new DomainError('NOT_FOUND', `policy template ${input.templateId} does not exist in this tenant`);
  if (target.identityId !== null) {
    const identity = await db.identity.findFirst({ where: { id: target.identityId, tenantId } }).catch(() => null);
    if (identity === null)
      throw new DomainError('NOT_FOUND', `identity ${target.identityId} does not exist in this tenant`);
  }
  return tx(db, async (client) => {
    const same = await client.policyAssignment.findFirst({
      where: {
        tenantId,
        identityId: target.identityId,
        group: target.group,
        tenantDefault: target.tenantDefault,
        dataClass: target.dataClass,
      },
    });
    if (same !== null) {
      throw new DomainError(
        'CONFLICT',
        `assignment ${same.id} already covers the same ${target.identityId ? 'identity' : target.group ? 'group' : 'tenant default'} and data class; unassign it first`,
      );
    }
    const assignment = await client.policyAssignment.create({ data: { tenantId, templateId: template.id, ...target } });
    await appendAudit(client, actor, {
      tenantId,
      action: 'policy.assign',
      objectType: 'PolicyAssignment',
      objectId: assignment.id,
      after: assignment,
    });
    return assignment;
  });
}

export async function unassignPolicyAudited(
  db: Db,
  actor: Actor,
  tenantId: string,
  id: string,
): Promise<PolicyAssignment> {
  return tx(db, async (client) => {
    const assignment = await client.policyAssignment.findFirst({ where: { id, tenantId } }).catch(() => null);
    if (assignment === null)
      throw new DomainError('NOT_FOUND', `policy assignment ${id} does not exist in this tenant`);
    await client.policyAssignment.delete({ where: { id } });
    await appendAudit(client, actor, {
      tenantId,
      action: 'policy.unassign',
      objectType: 'PolicyAssignment',
      objectId: id,
      before: assignment,
    });
    return assignment;
  });
}

export const listAssignments = (db: Db, tenantId: string): Promise<PolicyAssignment[]> =>
  db.policyAssignment.findMany({ where: { tenantId }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });

// ── datasets ───────────────────────────────────────────────────────────────────────────────────────────

export async function listDatasets(db: Db, tenantId: string, identityId: string | null) {
  return db.dataset.findMany({
    where: { tenantId, ...(identityId ? { identityId } : {}) },
    include: {
      identity: true,
      versions: {
        orderBy: { number: 'asc' },
        include: { jobs: { select: { id: true }, orderBy: { createdAt: 'asc' } } },
      },
    },
    orderBy: [{ key: 'asc' }, { createdAt: 'asc' }],
  });
}
