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
import { adapterFor, assertS3EndpointAllowed } from '@echelon/storage';
import { actorOf, type RequestContext, tenantOf } from '../../context.js';
import type { CreateStorageSystemInput } from './storage.inputs.js';
import { toStorageSystemView } from './storage.mappers.js';
import { checkStorage, filesystemRootProblem, placeFilesystemRoot } from './storage.placement.js';
import type { StorageSystemView } from './storage.types.js';

/**
 * Registers a storage system after validating its config and checking that every backup space can be used
 * (a failed check is STORAGE_UNAVAILABLE and registers nothing). A FILESYSTEM root must lie inside the platform's
 * storage roots, outside its own data and apart from every other system's root; an S3 endpoint must resolve to
 * public addresses unless the platform allows it (BAD_USER_INPUT, before anything is created or connected to).
 * S3 credentials are checked in plaintext, then stored only encrypted (ECHELON_SECRET_KEY); they are never
 * returned, logged or audited.
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
      const requested = validateFilesystemConfig(input.config);
      const config = { root: await placeFilesystemRoot(context.config, context.db, requested.root) };
      await checkStorage(
        adapterFor({ id: name, kind: 'FILESYSTEM', config }),
        spaces.map((space) => space.name),
        `new storage system "${name}" of tenant ${tenant.slug}`,
      );
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
      const buckets = spaces.map((space) => space.name);
      const privateEndpoints = context.config.s3PrivateEndpoints;
      await assertS3EndpointAllowed(connection, buckets, privateEndpoints);
      await checkStorage(
        adapterFor({ id: name, kind: 'S3', config: connection }, { s3: { privateEndpoints } }),
        buckets,
        `new storage system "${name}" of tenant ${tenant.slug}`,
      );
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
 * unhealthy system is left out of new backup schemes until a check finds it usable again. A FILESYSTEM root the
 * platform no longer allows is unhealthy without a check, since the check would create directories there.
 */
export async function checkStorageSystem(context: RequestContext, id: string): Promise<StorageSystemView> {
  const { tenant } = tenantOf(context);
  const system = (await context.storageSystems()).get(id);
  if (system === undefined) throw new DomainError('NOT_FOUND', `storage system ${id} does not exist in this tenant`);
  let reason: string | null = null;
  try {
    const connection = storageConnectionOf(system, context.config.secretKey);
    const root = system.kind === 'FILESYSTEM' ? (connection.config as { root?: unknown }).root : undefined;
    const misplaced = typeof root === 'string' ? await filesystemRootProblem(context.config, root) : undefined;
    if (misplaced !== undefined) throw new DomainError('STORAGE_UNAVAILABLE', misplaced);
    const adapter = adapterFor(connection, { s3: { privateEndpoints: context.config.s3PrivateEndpoints } });
    await checkStorage(
      adapter,
      system.spaces.map((space) => space.name),
      `storage system ${system.id} of tenant ${tenant.slug}`,
    );
  } catch (error) {
    if (!isDomainError(error) || error.code !== 'STORAGE_UNAVAILABLE') throw error;
    reason = error.message;
  }
  const updated = await setStorageHealthAudited(context.db, actorOf(context), tenant.id, id, reason === null, reason);
  return toStorageSystemView(updated);
}
