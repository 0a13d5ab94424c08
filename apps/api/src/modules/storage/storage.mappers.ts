import type { BackupSpace, StorageSystemWithSpaces } from '@echelon/db';
import { DomainError } from '@echelon/domain';
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

/** A storage system among a tenant's systems. */
export function storageSystemViewIn(systems: Map<string, StorageSystemWithSpaces>, id: string): StorageSystemView {
  const system = systems.get(id);
  if (system === undefined) throw new DomainError('NOT_FOUND', `storage system ${id} does not exist in this tenant`);
  return toStorageSystemView(system);
}

/** A backup space among a tenant's systems; null when the replica has none (yet). */
export function spaceViewIn(
  systems: Map<string, StorageSystemWithSpaces>,
  spaceId: string | null,
): BackupSpaceView | null {
  if (spaceId === null) return null;
  for (const system of systems.values()) {
    const space = system.spaces.find((candidate) => candidate.id === spaceId);
    if (space !== undefined) return toSpaceView(space);
  }
  return null;
}
