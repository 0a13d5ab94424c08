import { createStorageSystemAudited } from '@echelon/db';
import { DomainError, validateFilesystemConfig, validateName, validateSpaces } from '@echelon/domain';
import { adapterFor } from '@echelon/storage';
import { actorOf, type RequestContext, tenantOf } from '../../context.js';
import type { CreateStorageSystemInput } from './storage.inputs.js';
import { toStorageSystemView } from './storage.mappers.js';

/**
 * Registers a storage system after validating its config and checking that every backup space can be used
 * (a failed check is STORAGE_UNAVAILABLE and registers nothing).
 */
export async function createStorageSystem(context: RequestContext, input: CreateStorageSystemInput) {
  const { tenant } = tenantOf(context);
  const name = validateName(input.name, 'name');
  const spaces = validateSpaces(input.spaces);
  if (input.kind !== 'FILESYSTEM') {
    throw new DomainError(
      'BAD_USER_INPUT',
      'this version registers FILESYSTEM storage systems only; S3 support comes with the S3 adapter',
      { field: 'kind' },
    );
  }
  const config = validateFilesystemConfig(input.config);
  await adapterFor({ id: name, kind: 'FILESYSTEM', config }).check(spaces.map((space) => space.name));
  const system = await createStorageSystemAudited(context.db, actorOf(context), tenant.id, {
    name,
    kind: 'FILESYSTEM',
    config,
    spaces,
    healthy: true,
  });
  return toStorageSystemView(system);
}
