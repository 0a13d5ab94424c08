import { type Db, listStorageSystems } from '@echelon/db';
import { DomainError } from '@echelon/domain';
import { type ChunkRepository, chunkRepositoryFor } from '@echelon/storage';

/** A tenant's backup space where new chunks land, with its chunk repository. */
export interface IntakeSpace {
  spaceId: string;
  storageSystemId: string;
  repository: ChunkRepository;
}

/**
 * The chunk repository of one of the tenant's backup spaces (`db` scoped to the tenant). STORAGE_UNAVAILABLE when
 * its storage cannot hold chunks (yet), NOT_FOUND when the space is not the tenant's.
 */
export async function intakeSpaceById(db: Db, tenantId: string, spaceId: string): Promise<IntakeSpace> {
  const systems = await listStorageSystems(db, tenantId);
  for (const system of systems) {
    const space = system.spaces.find((candidate) => candidate.id === spaceId);
    if (space === undefined) continue;
    return {
      spaceId,
      storageSystemId: system.id,
      repository: chunkRepositoryFor(system, space.name, tenantId),
    };
  }
  throw new DomainError('NOT_FOUND', `backup space ${spaceId} does not exist in this tenant`);
}
