import { Authorized, Ctx, Query, Resolver } from 'type-graphql';
import { type RequestContext, tenantOf } from '../../context.js';
import { toStorageSystemView } from './storage.mappers.js';
import { StorageSystemView } from './storage.types.js';

@Resolver(() => StorageSystemView)
export class StorageResolver {
  @Authorized('storage:read')
  @Query(() => [StorageSystemView])
  async storageSystems(@Ctx() context: RequestContext): Promise<StorageSystemView[]> {
    tenantOf(context);
    return [...(await context.storageSystems()).values()].map(toStorageSystemView);
  }
}
