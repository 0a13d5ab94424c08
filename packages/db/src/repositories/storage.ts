import type { StorageCapacity } from '@echelon/domain';
import type { Db } from '../client.js';
import type { BackupSpace, StorageKind, StorageSystem } from '../generated/prisma/client.js';

export type StorageSystemWithSpaces = StorageSystem & { spaces: BackupSpace[] };

export async function createStorageSystem(
  db: Db,
  tenantId: string,
  input: {
    name: string;
    kind: StorageKind;
    config: Record<string, unknown>;
    spaces: { name: string; capacityBytes: number }[];
  },
): Promise<StorageSystemWithSpaces> {
  return db.storageSystem.create({
    data: {
      tenantId,
      name: input.name,
      kind: input.kind,
      config: input.config as object,
      spaces: {
        create: input.spaces.map((space) => ({
          tenantId,
          name: space.name,
          capacityBytes: BigInt(space.capacityBytes),
        })),
      },
    },
    include: { spaces: { orderBy: { createdAt: 'asc' } } },
  });
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

/** The capacity view the domain's placement functions work on. */
export const toCapacity = (system: StorageSystemWithSpaces): StorageCapacity => ({
  storageSystemId: system.id,
  name: system.name,
  healthy: system.healthy,
  spaces: system.spaces.map((space) => ({
    id: space.id,
    name: space.name,
    capacityBytes: Number(space.capacityBytes),
    usedBytes: Number(space.usedBytes),
  })),
});

export async function capacityMap(db: Db, tenantId: string): Promise<Map<string, StorageCapacity>> {
  const systems = await listStorageSystems(db, tenantId);
  return new Map(systems.map((system) => [system.id, toCapacity(system)]));
}
