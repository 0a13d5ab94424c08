import { Arg, Authorized, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { type RequestContext, tenantOf } from '../../context.js';
import { toStorageSystemView } from './storage.mappers.js';
import { CreateStorageSystemInput } from './storage.inputs.js';
import { checkStorageSystem, createStorageSystem } from './storage.service.js';
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

  @Authorized('storage:write')
  @Mutation(() => StorageSystemView, {
    description: 'Runs the connection check of a storage system now and records the outcome in `healthy`.',
  })
  checkStorageSystem(@Ctx() context: RequestContext, @Arg('id', () => ID) id: string): Promise<StorageSystemView> {
    return checkStorageSystem(context, id);
  }
}
