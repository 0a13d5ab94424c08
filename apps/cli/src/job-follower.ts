import type { Connection } from '@echelon/client';
import type { ResultOf } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { request, subscriptionClient, subscriptionError } from './api-client.js';
import type { CliContext } from './cli-context.js';
import { CliError } from './cli-errors.js';
import type { CliJobFragment, CliReplicaFragment } from './generated/graphql.js';
import { ReplicaBoard } from './progress-display.js';
import { JOB_QUERY, JOB_UPDATED_SUBSCRIPTION, REPLICA_PROGRESS_SUBSCRIPTION } from './operations.js';

const JOB_ENDS: ReadonlySet<string> = new Set(['COMPLETED', 'PARTIAL', 'FAILED', 'CANCELLED']);
const REPLICA_ENDS: ReadonlySet<string> = new Set(['COMPLETED', 'FAILED', 'SKIPPED', 'CANCELLED']);

/** A re-read of the job in case an update fell between a reconnect and its replay; the pushes do the work. */
const SAFETY_RECHECK_MS = 15_000;

export const isJobFinished = (job: Pick<CliJobFragment, 'status'>): boolean => JOB_ENDS.has(job.status);

export interface FollowOptions {
  signal: AbortSignal;
  /** Each replica as it changes (an event's state and bytes), and the event's message. */
  onReplica: (replica: CliReplicaFragment, message?: string | null) => void;
}

/** The job as it is now, or NOT_FOUND. */
export async function readJob(connection: Connection, jobId: string, signal?: AbortSignal): Promise<CliJobFragment> {
  const { backupJob } = await request(connection, JOB_QUERY, { id: jobId }, signal);
  if (backupJob === null) throw new CliError('NOT_FOUND', `backup job ${jobId} does not exist in this tenant`);
  return backupJob;
}

/**
 * Follows a backup job live over graphql-ws until it ends: the replica events (replayed from the first, so nothing
 * before the subscription is missed) drive `onReplica`, and the job's own updates say when it is over. Resolves
 * with the finished job; Ctrl-C rejects with INTERRUPTED (the job goes on on the server).
 */
export async function followJob(
  connection: Connection,
  jobId: string,
  options: FollowOptions,
): Promise<CliJobFragment> {
  const client = subscriptionClient(connection);
  const stops: (() => void)[] = [];
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<CliJobFragment>((resolve, reject) => {
      let isSettled = false;
      const replicaStatus = new Map<string, string>();
      const settle = (outcome: { job: CliJobFragment } | { error: unknown }) => {
        if (isSettled) return;
        isSettled = true;
        if ('job' in outcome) resolve(outcome.job);
        else reject(outcome.error);
      };
      const take = (job: CliJobFragment) => {
        for (const replica of job.replicas) {
          if (!replicaStatus.has(replica.id) || REPLICA_ENDS.has(replica.status)) {
            replicaStatus.set(replica.id, replica.status);
            options.onReplica(replica);
          }
        }
        if (isJobFinished(job)) settle({ job });
      };
      const recheck = () => {
        readJob(connection, jobId, options.signal).then(take, (error: unknown) => settle({ error }));
      };
      const onAbort = () =>
        settle({
          error: new CliError(
            'INTERRUPTED',
            `stopped following backup job ${jobId}; it goes on on the server: \`echelon watch ${jobId}\` follows it again`,
            { jobId },
          ),
        });
      if (options.signal.aborted) onAbort();
      options.signal.addEventListener('abort', onAbort, { once: true });
      stops.push(() => options.signal.removeEventListener('abort', onAbort));

      stops.push(
        client.subscribe<ResultOf<typeof JOB_UPDATED_SUBSCRIPTION>>(
          { query: print(JOB_UPDATED_SUBSCRIPTION) },
          {
            next: (message) => {
              if (message.errors) settle({ error: subscriptionError(message.errors) });
              const job = message.data?.backupJobUpdated;
              if (job?.id === jobId) take(job);
            },
            error: (error) => settle({ error: subscriptionError(error) }),
            complete: () => undefined,
          },
        ),
      );
      stops.push(
        client.subscribe<ResultOf<typeof REPLICA_PROGRESS_SUBSCRIPTION>>(
          { query: print(REPLICA_PROGRESS_SUBSCRIPTION), variables: { jobId } },
          {
            next: (message) => {
              if (message.errors) settle({ error: subscriptionError(message.errors) });
              const event = message.data?.replicaProgress;
              if (event === undefined) return;
              const replica = { ...event.replica, status: event.status, bytesCopied: event.bytesCopied };
              replicaStatus.set(replica.id, replica.status);
              options.onReplica(replica, event.message);
              // Every copy has ended: the job's own end follows; read it rather than wait on its push alone.
              if ([...replicaStatus.values()].every((status) => REPLICA_ENDS.has(status))) recheck();
            },
            error: (error) => settle({ error: subscriptionError(error) }),
            complete: () => undefined,
          },
        ),
      );
      recheck();
      timer = setInterval(recheck, SAFETY_RECHECK_MS);
    });
  } finally {
    clearInterval(timer);
    for (const stop of stops) stop();
    await client.dispose();
  }
}

/** A finished job that is not COMPLETED as the error its exit status reports. */
export function unprotectedError(job: CliJobFragment): CliError {
  const verified = job.replicas.filter((replica) => replica.status === 'COMPLETED').length;
  return new CliError(
    'NOT_PROTECTED',
    `backup job ${job.id} ended ${job.status} with ${verified} of ${job.scheme.copies} copies verified${job.statusReason ? `: ${job.statusReason}` : ''}`,
    { job },
  );
}

/** Follows a job with a bar (or a line) per replica until it ends; what `backup` and `watch` both do. */
export async function followToEnd(
  context: CliContext,
  connection: Connection,
  jobId: string,
  isQuiet: boolean,
): Promise<CliJobFragment> {
  const first = await readJob(connection, jobId, context.signal);
  const board = new ReplicaBoard(context.io, first.scheme.copies, isQuiet);
  try {
    return await followJob(connection, jobId, {
      signal: context.signal,
      onReplica: (replica, message) => board.update(replica, message),
    });
  } finally {
    board.stop();
  }
}
