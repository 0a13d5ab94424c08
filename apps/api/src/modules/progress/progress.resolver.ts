import { getReplica } from '@echelon/db';
import { DomainError } from '@echelon/domain';
import { streamJobChanges, streamReplicaEvents } from '@echelon/events';
import { Arg, Authorized, ID, Resolver, Root, Subscription } from 'type-graphql';
import { hasPermission, isMemberOnly, type Permission } from '../../auth.js';
import { createContext, type RequestContext, rolesOf, tenantOf } from '../../context.js';
import { toEventView, toJobView } from '../jobs/jobs.mappers.js';
import { findJob } from '../jobs/jobs.service.js';
import { BackupJobView, ReplicaEventView } from '../jobs/jobs.types.js';

/** How long job changes are gathered before one update per job is pushed. */
const JOB_UPDATE_COALESCE_MS = 150;

function authorize(context: RequestContext, permission: Permission) {
  const scope = tenantOf(context);
  if (context.principal === undefined || !hasPermission(rolesOf(context.principal), permission)) {
    throw new DomainError('FORBIDDEN', `your roles do not allow ${permission}`);
  }
  return scope;
}

/** Maps each item of `source` with `map`, in order; ending the result ends the source. */
async function* mapStream<T, U>(
  source: AsyncIterableIterator<T>,
  map: (item: T) => Promise<U | undefined>,
): AsyncGenerator<U> {
  try {
    for await (const item of source) {
      const mapped = await map(item);
      if (mapped !== undefined) yield mapped;
    }
  } finally {
    await source.return?.();
  }
}

async function* replicaProgressStream(context: RequestContext, jobId: string, afterEventId: string | null) {
  const { tenant } = authorize(context, 'job:read');
  const job = await findJob(context, jobId);
  if (job === null) throw new DomainError('NOT_FOUND', `backup job ${jobId} does not exist in this tenant`);
  let after = 0n;
  if (afterEventId !== null) {
    if (!/^\d{1,19}$/.test(afterEventId)) {
      throw new DomainError(
        'BAD_USER_INPUT',
        `afterEventId must be the id of an event you received, not "${afterEventId.slice(0, 40)}"`,
      );
    }
    after = BigInt(afterEventId);
  }
  const events = streamReplicaEvents(context.db, context.hub, { tenantId: tenant.id, jobId, afterEventId: after });
  yield* mapStream(events, async (event) => {
    // A fresh context per event: capacity figures in the replica's space must be current.
    const eventContext = createContext(context, context.principal);
    const replica = await getReplica(context.db, tenant.id, event.replicaId);
    return replica === null ? undefined : toEventView(eventContext, event, replica);
  });
}

async function* jobUpdateStream(context: RequestContext) {
  const { tenant, identity } = authorize(context, 'job:read');
  const memberOnly = isMemberOnly(identity.roles);
  const changes = streamJobChanges(context.hub, tenant.id);
  const pending = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;
  const pump = (async () => {
    for await (const jobId of changes) {
      pending.add(jobId);
      timer ??= setTimeout(() => {
        timer = undefined;
        wake?.();
      }, JOB_UPDATE_COALESCE_MS);
    }
    wake?.();
  })();
  try {
    for (;;) {
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      const ids = [...pending];
      pending.clear();
      if (ids.length === 0) break;
      for (const jobId of ids) {
        const eventContext = createContext(context, context.principal);
        const job = await findJob(eventContext, jobId);
        if (job === null || (memberOnly && job.identityId !== identity.id)) continue;
        yield await toJobView(eventContext, job);
      }
    }
  } finally {
    if (timer) clearTimeout(timer);
    await changes.return?.();
    await pump;
  }
}

@Resolver()
export class ProgressResolver {
  @Authorized('job:read')
  @Subscription(() => ReplicaEventView, {
    description: 'replays events after afterEventId first',
    subscribe: ({ args, context }) =>
      replicaProgressStream(
        context as RequestContext,
        String(args.jobId),
        (args.afterEventId as string | null | undefined) ?? null,
      ),
  })
  replicaProgress(
    @Root() event: ReplicaEventView,
    @Arg('jobId', () => ID) _jobId: string,
    @Arg('afterEventId', () => ID, { nullable: true }) _afterEventId: string | null,
  ): ReplicaEventView {
    return event;
  }

  @Authorized('job:read')
  @Subscription(() => BackupJobView, {
    description: "every job of the caller's tenant",
    subscribe: ({ context }) => jobUpdateStream(context as RequestContext),
  })
  backupJobUpdated(@Root() job: BackupJobView): BackupJobView {
    return job;
  }
}
