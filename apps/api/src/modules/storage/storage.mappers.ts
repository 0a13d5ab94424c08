import type { BackupSpace, StorageSystemWithSpaces } from '@echelon/db';
import { DomainError } from '@echelon/domain';
import type { RequestContext } from '../../context.js';
import type { BackupSpaceView, StorageKindEnum, StorageSystemView } from './storage.types.js';

export const toSpaceView = (space: BackupSpace): BackupSpaceView => {
  const capacityBytes = Number(space.capacityBytes);
  const usedBytes = Number(space.usedBytes);
  return {
    id: space.id,
    name: space.name,
    capacityBytes,
    usedBytes,
    remainingBytes: Math.max(0, capacityBytes - usedBytes),
  };
};

export const toStorageSystemView = (system: StorageSystemWithSpaces): StorageSystemView => {
  const spaces = system.spaces.map(toSpaceView);
  return {
    id: system.id,
    name: system.name,
    kind: system.kind as StorageKindEnum,
    spaces,
    capacityBytes: spaces.reduce((sum, space) => sum + space.capacityBytes, 0),
    remainingBytes: spaces.reduce((sum, space) => sum + space.remainingBytes, 0),
    healthy: system.healthy,
  };
};

/** A storage system of the caller's tenant, from the per-request cache. */
export async function storageSystemView(context: RequestContext, id: string): Promise<StorageSystemView> {
  const system = (await context.storageSystems()).get(id);
  if (system === undefined) throw new DomainError('NOT_FOUND', `storage system ${id} does not exist in this tenant`);
  return toStorageSystemView(system);
}

export async function spaceView(context: RequestContext, spaceId: string | null): Promise<BackupSpaceView | null> {
  if (spaceId === null) return null;
  for (const system of (await context.storageSystems()).values()) {
    const space = system.spaces.find((candidate) => candidate.id === spaceId);
    if (space !== undefined) return toSpaceView(space);
  }
  return null;
}
