import { Arg, Authorized, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import { type RequestContext, tenantOf } from '../../context.js';
import { toStorageSystemView } from './storage.mappers.js';
import { CreateStorageSystemInput } from './storage.inputs.js';
import { createStorageSystem } from './storage.service.js';
import { StorageSystemView } from './storage.types.js';

@Resolver(() => StorageSystemView)
export class StorageResolver {
  @Authorized('storage:read')
  @Query(() => [StorageSystemView])
  async storageSystems(@Ctx() context: RequestContext): Promise<StorageSystemView[]> {
    tenantOf(context);
    return [...(await context.storageSystems()).values()].map(toStorageSystemView);
  }

  @Authorized('storage:write')
  @Mutation(() => StorageSystemView)
  createStorageSystem(
    @Ctx() context: RequestContext,
    @Arg('input', () => CreateStorageSystemInput) input: CreateStorageSystemInput,
  ): Promise<StorageSystemView> {
    return createStorageSystem(context, input);
  }
}
