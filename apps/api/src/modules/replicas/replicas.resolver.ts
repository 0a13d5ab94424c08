import { Arg, Authorized, Ctx, ID, Mutation, Resolver } from 'type-graphql';
import type { RequestContext } from '../../context.js';
import { Expensive } from '../../rate-limit.js';
import { requestStorage, toReplicaView } from '../jobs/jobs.mappers.js';
import { ReplicaView } from '../jobs/jobs.types.js';
import { verifyReplica } from './replicas.service.js';

@Resolver(() => ReplicaView)
export class ReplicasResolver {
  @Authorized('replica:verify')
  // Reads the copy's manifest and every chunk it names from its storage.
  @Expensive({ cost: 100 })
  @Mutation(() => ReplicaView, {
    description:
      'checks a COMPLETED or DEGRADED chunked copy now (its manifest and every chunk, verified) and returns it as the check left it: DEGRADED when it found damage (the repair from a healthy copy follows), unchanged otherwise',
  })
  async verifyReplica(@Ctx() context: RequestContext, @Arg('id', () => ID) id: string): Promise<ReplicaView> {
    return toReplicaView(requestStorage(context), await verifyReplica(context, id));
  }
}
