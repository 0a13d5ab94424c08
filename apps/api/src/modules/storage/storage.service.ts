import {
  createStorageSystemAudited,
  requireSecretKey,
  setStorageHealthAudited,
  storageConnectionOf,
} from '@echelon/db';
import {
  DomainError,
  isDomainError,
  validateFilesystemConfig,
  validateName,
  validateS3Config,
  validateSpaces,
} from '@echelon/domain';
import { adapterFor } from '@echelon/storage';
import { actorOf, type RequestContext, tenantOf } from '../../context.js';
import type { CreateStorageSystemInput } from './storage.inputs.js';
import { toStorageSystemView } from './storage.mappers.js';
import type { StorageSystemView } from './storage.types.js';

/**
 * Registers a storage system after validating its config and checking that every backup space can be used
 * (a failed check is STORAGE_UNAVAILABLE and registers nothing). S3 credentials are checked in plaintext, then
 * stored only encrypted (ECHELON_SECRET_KEY); they are never returned, logged or audited.
 */
export async function createStorageSystem(
  context: RequestContext,
  input: CreateStorageSystemInput,
): Promise<StorageSystemView> {
  const { tenant } = tenantOf(context);
  const name = validateName(input.name, 'name');
  const actor = actorOf(context);
  switch (input.kind) {
    case 'FILESYSTEM': {
      const spaces = validateSpaces(input.spaces, 'FILESYSTEM');
      const config = validateFilesystemConfig(input.config);
      await adapterFor({ id: name, kind: 'FILESYSTEM', config }).check(spaces.map((space) => space.name));
      const system = await createStorageSystemAudited(context.db, actor, tenant.id, {
        name,
        kind: 'FILESYSTEM',
        config,
        spaces,
        healthy: true,
      });
      return toStorageSystemView(system);
    }
    case 'S3': {
      const spaces = validateSpaces(input.spaces, 'S3');
      const connection = validateS3Config(input.config);
      // Refused before any connection is made: without the key the credentials could not be kept.
      const secretKey = requireSecretKey(context.config.secretKey, 'registering S3 storage');
      await adapterFor({ id: name, kind: 'S3', config: connection }).check(spaces.map((space) => space.name));
      const { secretAccessKey, ...settings } = connection;
      const system = await createStorageSystemAudited(context.db, actor, tenant.id, {
        name,
        kind: 'S3',
        config: settings,
        secrets: { secretAccessKey },
        secretKey,
        spaces,
        healthy: true,
      });
      return toStorageSystemView(system);
    }
    default:
      throw new DomainError('BAD_USER_INPUT', `kind must be FILESYSTEM or S3, not ${String(input.kind)}`, {
        field: 'kind',
      });
  }
}

/**
 * Runs the connection check of a registered system again, now, and records the outcome in `healthy`: an
 * unhealthy system is left out of new backup schemes until a check finds it usable again.
 */
export async function checkStorageSystem(context: RequestContext, id: string): Promise<StorageSystemView> {
  const { tenant } = tenantOf(context);
  const system = (await context.storageSystems()).get(id);
  if (system === undefined) throw new DomainError('NOT_FOUND', `storage system ${id} does not exist in this tenant`);
  let reason: string | null = null;
  try {
    const adapter = adapterFor(storageConnectionOf(system, context.config.secretKey));
    await adapter.check(system.spaces.map((space) => space.name));
  } catch (error) {
    if (!isDomainError(error) || error.code !== 'STORAGE_UNAVAILABLE') throw error;
    reason = error.message;
  }
  const updated = await setStorageHealthAudited(context.db, actorOf(context), tenant.id, id, reason === null, reason);
  return toStorageSystemView(updated);
}
