import { Arg, Authorized, Ctx, Int, Query, Resolver } from 'type-graphql';
import type { RequestContext } from '../../context.js';
import { replicaHistory } from './history.service.js';
import { ReplicaEventConnectionView, ReplicaHistoryFilter } from './history.types.js';

@Resolver()
export class HistoryResolver {
  @Authorized('job:read')
  @Query(() => ReplicaEventConnectionView, { description: 'every replica event of the tenant, oldest first' })
  replicaHistory(
    @Ctx() context: RequestContext,
    @Arg('filter', () => ReplicaHistoryFilter, { nullable: true }) filter: ReplicaHistoryFilter | null,
    @Arg('first', () => Int, { nullable: true, defaultValue: 100 }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
  ): Promise<ReplicaEventConnectionView> {
    return replicaHistory(context, filter, first ?? 100, after);
  }
}
