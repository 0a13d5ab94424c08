import { DomainError } from '@echelon/domain';
import type { JobUpdate } from '@echelon/events';
import { Arg, Authorized, ID, Resolver, Root, Subscription } from 'type-graphql';
import { hasPermission, isMemberOnly, type Permission } from '../../auth.js';
import { type RequestContext, rolesOf, tenantOf } from '../../context.js';
import { kept, mapIterator } from '../../shared-execution.js';
import { sharedStorage, toEventView, toJobView } from '../jobs/jobs.mappers.js';
import { canSeeJob } from '../jobs/jobs.service.js';
import { BackupJobView, ReplicaEventView } from '../jobs/jobs.types.js';

function authorize(context: RequestContext, permission: Permission) {
  const scope = tenantOf(context);
  if (context.principal === undefined || !hasPermission(rolesOf(context.principal), permission)) {
    throw new DomainError('FORBIDDEN', `your roles do not allow ${permission}`);
  }
  return scope;
}

/** One view per shared feed item or job update, so every subscriber receives the same object (see shared-execution). */
const eventViews = new WeakMap<object, ReplicaEventView>();
const jobViews = new WeakMap<object, BackupJobView>();

/**
 * A job's events from the process's shared feed of that job: read once for all subscribers, mapped here
 * without further reads (storage figures only if selected, once per read for everyone).
 */
async function replicaProgressStream(
  context: RequestContext,
  jobId: string,
  afterEventId: string | null,
): Promise<AsyncIterableIterator<ReplicaEventView>> {
  const { tenant } = authorize(context, 'job:read');
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
  if (!(await canSeeJob(context, jobId))) {
    throw new DomainError('NOT_FOUND', `backup job ${jobId} does not exist in this tenant`);
  }
  const items = context.feeds.subscribe({ tenantId: tenant.id, jobId, afterEventId: after });
  return mapIterator(items, (item) =>
    kept(eventViews, item, () =>
      toEventView(sharedStorage(context.db, tenant.id, item.lookups), item.event, item.replica),
    ),
  );
}

/** The tenant's jobs as they change, each read once per change for every subscriber; a MEMBER sees its own. */
function jobUpdateStream(context: RequestContext): AsyncIterableIterator<BackupJobView> {
  const { tenant, identity } = authorize(context, 'job:read');
  const memberOnly = isMemberOnly(identity.roles);
  const updates = context.jobUpdates.subscribe(tenant.id);
  const visible: AsyncIterator<JobUpdate> = {
    async next() {
      for (;;) {
        const result = await updates.next();
        if (result.done || !memberOnly || result.value.job.identityId === identity.id) return result;
      }
    },
    return: () => updates.return?.() ?? Promise.resolve({ value: undefined, done: true }),
  };
  return mapIterator(visible, (update) =>
    kept(jobViews, update, () => toJobView(sharedStorage(context.db, tenant.id, update.lookups), update.job)),
  );
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
