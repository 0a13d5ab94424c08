import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Db } from './client.js';
import type { PolicyTemplateVersion, SecondaryOrdering, Tenant } from './generated/prisma/client.js';
import {
  assignPolicyAudited,
  createApiKeyAudited,
  createIdentityAudited,
  createPolicyTemplateAudited,
  createStorageSystemAudited,
  createTenantAudited,
} from './repositories/admin.js';
import type { Actor } from './repositories/audit.js';
import type { StorageSystemWithSpaces } from './repositories/storage.js';

/** Seeded tenants are audited like any other: the demo and each test tenant show who made them. */
const SEED_ACTOR: Actor = { identityId: null, label: 'seed' };

const GIB = 1024 ** 3;

export interface StorageSeed {
  name: string;
  spaces: { name: string; capacityBytes: number }[];
}

/** The demo's three systems: different sizes, so the capacity ordering is visible. */
export const DEMO_STORAGE: StorageSeed[] = [
  { name: 'primary-ssd', spaces: [{ name: 'fast', capacityBytes: 20 * GIB }] },
  {
    name: 'nas-archive',
    spaces: [
      { name: 'shelf-a', capacityBytes: 50 * GIB },
      { name: 'shelf-b', capacityBytes: 80 * GIB },
    ],
  },
  { name: 'ceph-cold', spaces: [{ name: 'bucket-1', capacityBytes: 200 * GIB }] },
];

export interface SeedTenantOptions {
  slug: string;
  name: string;
  /** Each FILESYSTEM system gets `<storageRoot>/<system name>` as its root. */
  storageRoot: string;
  storage?: StorageSeed[];
  copies?: number;
  delaySeconds?: number;
  ordering?: SecondaryOrdering;
  minCopies?: number;
}

export interface SeededTenant {
  tenant: Tenant;
  adminIdentityId: string;
  adminExternalId: string;
  apiKey: string;
  storageSystems: StorageSystemWithSpaces[];
  template: PolicyTemplateVersion;
}

/**
 * A tenant ready to back up: an admin identity with an API key, FILESYSTEM storage systems with backup spaces,
 * and a policy template assigned as the tenant default (the first system is the primary, the rest candidates).
 * Used by the demo and by tests, which each create their own tenant.
 */
export async function seedTenant(db: Db, options: SeedTenantOptions): Promise<SeededTenant> {
  const storage = options.storage ?? DEMO_STORAGE;
  const tenant = await createTenantAudited(db, SEED_ACTOR, { slug: options.slug, name: options.name });
  const admin = await createIdentityAudited(db, SEED_ACTOR, tenant.id, {
    externalId: 'admin',
    displayName: `${options.name} administrator`,
    roles: ['TENANT_ADMIN', 'OPERATOR'],
    groups: ['admins'],
  });
  const key = await createApiKeyAudited(db, SEED_ACTOR, tenant.id, { identityId: admin.id, name: 'bootstrap key' });
  const storageSystems: StorageSystemWithSpaces[] = [];
  for (const system of storage) {
    const root = path.join(options.storageRoot, system.name);
    await mkdir(root, { recursive: true });
    for (const space of system.spaces) await mkdir(path.join(root, space.name), { recursive: true });
    storageSystems.push(
      await createStorageSystemAudited(db, SEED_ACTOR, tenant.id, {
        name: system.name,
        kind: 'FILESYSTEM',
        config: { root },
        spaces: system.spaces,
        healthy: true,
      }),
    );
  }
  const [primary, ...candidates] = storageSystems;
  if (primary === undefined) throw new Error('seedTenant needs at least one storage system');
  const template = await createPolicyTemplateAudited(db, SEED_ACTOR, tenant.id, {
    name: 'standard protection',
    copies: options.copies ?? storageSystems.length,
    primaryStorageSystemId: primary.id,
    candidateStorageSystemIds: candidates.map((system) => system.id),
    delaySeconds: options.delaySeconds ?? 10,
    ordering: options.ordering ?? 'CAPACITY',
    dataClass: null,
    minCopies: options.minCopies ?? 1,
  });
  await assignPolicyAudited(db, SEED_ACTOR, tenant.id, { templateId: template.templateId, tenantDefault: true });
  return {
    tenant,
    adminIdentityId: admin.id,
    adminExternalId: admin.externalId,
    apiKey: key.secret,
    storageSystems,
    template,
  };
}

export const DEMO_TENANT_SLUG = 'demo';

export interface DemoCredentials {
  tenantSlug: string;
  identity: string;
  apiKey: string;
}

/**
 * Seeds the demo tenant once. The demo key's secret is kept in a local file (mode 0600) so that every later
 * `npm start` can print the login again; the database itself holds only its hash.
 */
export async function ensureDemoTenant(
  db: Db,
  options: { storageRoot: string; credentialsFile: string },
): Promise<{ credentials: DemoCredentials; created: boolean }> {
  const existing = await db.tenant.findUnique({ where: { slug: DEMO_TENANT_SLUG } });
  if (existing !== null) {
    const saved = await readFile(options.credentialsFile, 'utf8').then(
      (text) => JSON.parse(text) as DemoCredentials,
      () => undefined,
    );
    if (saved !== undefined) return { credentials: saved, created: false };
    const admin = await db.identity.findFirstOrThrow({ where: { tenantId: existing.id, externalId: 'admin' } });
    const key = await createApiKeyAudited(db, SEED_ACTOR, existing.id, {
      identityId: admin.id,
      name: 'demo key (reissued)',
    });
    const credentials = { tenantSlug: DEMO_TENANT_SLUG, identity: 'admin', apiKey: key.secret };
    await saveCredentials(options.credentialsFile, credentials);
    return { credentials, created: false };
  }
  const seeded = await seedTenant(db, {
    slug: DEMO_TENANT_SLUG,
    name: 'Demo Corp',
    storageRoot: options.storageRoot,
    copies: 3,
    delaySeconds: 10,
    ordering: 'CAPACITY',
  });
  const credentials = { tenantSlug: DEMO_TENANT_SLUG, identity: seeded.adminExternalId, apiKey: seeded.apiKey };
  await saveCredentials(options.credentialsFile, credentials);
  return { credentials, created: true };
}

async function saveCredentials(file: string, credentials: DemoCredentials): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
}
