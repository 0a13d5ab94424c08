import { bytesToWriteSql } from './chunks.js';
import { DomainError, type StorageCapacity } from '@echelon/domain';
import { type Db, Prisma } from '../client.js';
import type { BackupSpace, StorageKind, StorageSystem } from '../generated/prisma/client.js';
import { openSecret, SecretSealError, sealSecret } from '../secrets.js';

export type StorageSystemWithSpaces = StorageSystem & { spaces: BackupSpace[] };

/** What a storage system's secrets are: names to values, e.g. S3's `{ secretAccessKey }`. */
export type StorageSecrets = Record<string, string>;

/** Sealed secrets open only for the row they were sealed for: copied to another row or tenant, they fail. */
const secretContext = (tenantId: string, storageSystemId: string) =>
  `echelon/storage_systems/${tenantId}/${storageSystemId}`;

/** The secret key, or a refusal that tells the operator what to set. */
export function requireSecretKey(secretKey: Buffer | undefined, purpose: string): Buffer {
  if (secretKey === undefined) {
    throw new DomainError(
      'STORAGE_UNAVAILABLE',
      `${purpose} needs ECHELON_SECRET_KEY (32 bytes, hex or base64, e.g. from openssl rand -base64 32) in the environment of the API and the worker, to keep storage credentials encrypted`,
    );
  }
  return secretKey;
}

/** Seals a storage system's secrets for its row (AES-256-GCM, see `sealSecret`). */
export function sealStorageSecrets(
  secretKey: Buffer,
  tenantId: string,
  storageSystemId: string,
  secrets: StorageSecrets,
): string {
  return sealSecret(secretKey, JSON.stringify(secrets), secretContext(tenantId, storageSystemId));
}

/** What a storage adapter is built from: the stored settings merged with the decrypted secrets. */
export interface StorageConnection {
  id: string;
  kind: StorageKind;
  config: Record<string, unknown>;
}

/**
 * The settings an adapter needs to reach `system`, its secrets decrypted with `secretKey`. The plaintext exists
 * only in the returned object, for the adapter: never log it, store it or return it through the API. A system
 * whose secrets cannot be opened (no key, another key, altered ciphertext) is STORAGE_UNAVAILABLE.
 */
export function storageConnectionOf(system: StorageSystem, secretKey: Buffer | undefined): StorageConnection {
  const settings = (system.config ?? {}) as Record<string, unknown>;
  if (system.secretConfig === null) return { id: system.id, kind: system.kind, config: { ...settings } };
  const key = requireSecretKey(secretKey, `storage system ${system.name} keeps encrypted credentials; using it`);
  let secrets: unknown;
  try {
    secrets = JSON.parse(openSecret(key, system.secretConfig, secretContext(system.tenantId, system.id)));
  } catch (error) {
    const reason = error instanceof SecretSealError ? error.message : 'its sealed credentials are not valid JSON';
    throw new DomainError(
      'STORAGE_UNAVAILABLE',
      `cannot open the credentials of storage system ${system.name}: ${reason}`,
    );
  }
  if (typeof secrets !== 'object' || secrets === null || Array.isArray(secrets)) {
    throw new DomainError(
      'STORAGE_UNAVAILABLE',
      `the sealed credentials of storage system ${system.name} are not an object`,
    );
  }
  return { id: system.id, kind: system.kind, config: { ...settings, ...(secrets as StorageSecrets) } };
}

/**
 * Whether a FILESYSTEM system of any tenant, this one included, has one of `roots` as its root or a root inside or
 * containing one of them. The answer is only yes or no: which system it is, and whose, stays hidden, since the
 * lookup crosses tenants (`echelon_filesystem_root_taken`, a security-definer function).
 */
export async function isFilesystemRootTaken(db: Pick<Db, '$queryRaw'>, roots: readonly string[]): Promise<boolean> {
  const rows = await db.$queryRaw<{ taken: boolean }[]>`
    SELECT echelon_filesystem_root_taken(${[...roots]}::text[]) AS taken`;
  return rows[0]?.taken === true;
}

export async function listStorageSystems(db: Db, tenantId: string): Promise<StorageSystemWithSpaces[]> {
  return db.storageSystem.findMany({
    where: { tenantId },
    include: { spaces: { orderBy: [{ createdAt: 'asc' }, { name: 'asc' }] } },
    orderBy: [{ createdAt: 'asc' }, { name: 'asc' }],
  });
}

export async function findStorageSystems(
  db: Db,
  tenantId: string,
  ids: readonly string[],
): Promise<StorageSystemWithSpaces[]> {
  return db.storageSystem.findMany({
    where: { tenantId, id: { in: [...ids] } },
    include: { spaces: { orderBy: [{ createdAt: 'asc' }, { name: 'asc' }] } },
  });
}

/**
 * The capacity view the domain's placement functions work on; `heldBytes` (from `heldBytesBySpace`): what each
 * space already holds of the data being placed.
 */
export const toCapacity = (
  system: StorageSystemWithSpaces,
  heldBytes?: ReadonlyMap<string, number>,
): StorageCapacity => ({
  storageSystemId: system.id,
  name: system.name,
  healthy: system.healthy,
  spaces: system.spaces.map((space) => ({
    id: space.id,
    name: space.name,
    capacityBytes: Number(space.capacityBytes),
    usedBytes: Number(space.usedBytes),
    ...(heldBytes?.has(space.id) ? { heldBytes: heldBytes.get(space.id) } : {}),
  })),
});

/**
 * The column `capacities`: every storage system of the tenant as `toCapacity` describes it, as JSON, so that a
 * statement reading other things too (requestBackup's one read) gets the capacities in the same round trip. With
 * `uploadId`, each space also says what it already holds of that upload's data (`heldBytes`).
 */
export const capacitiesColumn = (tenantId: string, uploadId?: string): Prisma.Sql => Prisma.sql`
  (SELECT coalesce(jsonb_agg(jsonb_build_object(
            'storageSystemId', s.id, 'name', s.name, 'healthy', s.healthy,
            'spaces', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                                 'id', b.id, 'name', b.name,
                                 'capacityBytes', b.capacity_bytes, 'usedBytes', b.used_bytes,
                                 'heldBytes', ${
                                   uploadId === undefined
                                     ? Prisma.sql`0`
                                     : Prisma.sql`GREATEST((SELECT size_bytes FROM uploads WHERE id = ${uploadId}) - ${bytesToWriteSql(Prisma.sql`${uploadId}`, Prisma.sql`b.id`)}, 0)`
                                 })
                               ORDER BY b.created_at, b.name), '[]'::jsonb)
                         FROM backup_spaces b WHERE b.storage_system_id = s.id AND b.tenant_id = s.tenant_id))
          ORDER BY s.created_at, s.name), '[]'::jsonb)
     FROM storage_systems s WHERE s.tenant_id = ${tenantId}::uuid) AS capacities`;

/** The `capacities` column read back, keyed by storage system. */
export const capacitiesFrom = (json: unknown): Map<string, StorageCapacity> => {
  const systems = (typeof json === 'string' ? JSON.parse(json) : json) as StorageCapacity[];
  return new Map(systems.map((system) => [system.storageSystemId, system]));
};

/** The capacity of every storage system of the tenant, in one statement. */
export async function capacityMap(db: Db, tenantId: string): Promise<Map<string, StorageCapacity>> {
  const [row] = await db.$queryRaw<{ capacities: unknown }[]>`SELECT ${capacitiesColumn(tenantId)}`;
  return capacitiesFrom(row?.capacities ?? []);
}
