import type { EchelonConfig } from '@echelon/config';
import { type Db, listStorageSystems, storageConnectionOf } from '@echelon/db';
import { DomainError } from '@echelon/domain';
import { type ChunkRepository, chunkRepositoryFor } from '@echelon/storage';

/** A tenant's backup space where new chunks land, with its chunk repository. */
export interface IntakeSpace {
  spaceId: string;
  storageSystemId: string;
  repository: ChunkRepository;
}

/**
 * The chunk repository of one of the tenant's backup spaces (`db` scoped to the tenant), connected under the
 * platform's address rules. STORAGE_UNAVAILABLE when its storage cannot hold chunks, NOT_FOUND when the space is
 * not the tenant's.
 */
export async function intakeSpaceById(
  db: Db,
  config: Pick<EchelonConfig, 'secretKey' | 's3PrivateEndpoints'>,
  tenantId: string,
  spaceId: string,
): Promise<IntakeSpace> {
  const systems = await listStorageSystems(db, tenantId);
  for (const system of systems) {
    const space = system.spaces.find((candidate) => candidate.id === spaceId);
    if (space === undefined) continue;
    return {
      spaceId,
      storageSystemId: system.id,
      repository: chunkRepositoryFor(storageConnectionOf(system, config.secretKey), space.name, tenantId, {
        s3: { privateEndpoints: config.s3PrivateEndpoints },
      }),
    };
  }
  throw new DomainError('NOT_FOUND', `backup space ${spaceId} does not exist in this tenant`);
}
