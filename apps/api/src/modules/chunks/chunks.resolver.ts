import { Arg, Authorized, Ctx, Extensions, Query, Resolver } from 'type-graphql';
import type { RequestContext } from '../../context.js';
import { ITEM_COST_EXTENSION } from '../../query-limits.js';
import { missingChunks } from './chunks.service.js';

@Resolver()
export class ChunksResolver {
  @Authorized('chunk:write')
  // One per hash asked about: a full list of 10,000 costs half the default budget.
  @Extensions({ [ITEM_COST_EXTENSION]: { argument: 'hashes', cost: 1 } })
  @Query(() => [String], {
    description:
      'which of these chunk ids (sha256, 64 lowercase hex) the caller’s tenant does not hold: send those with PUT /chunks/<sha256>; at most 10,000 per call',
  })
  async missingChunks(
    @Ctx() context: RequestContext,
    @Arg('hashes', () => [String]) hashes: string[],
  ): Promise<string[]> {
    return missingChunks(context, hashes);
  }
}
