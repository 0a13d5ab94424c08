'use client';

import Link from 'next/link';
import { useEffect, useReducer } from 'react';
import { formatDuration } from '@/lib/format';
import { type GraphQLRequestError, hasErrorCode } from '@/lib/graphql-client';
import { latestRequest } from '@/lib/latest-request';
import { BACKUP_JOB_QUERY, BACKUP_JOB_UPDATED_SUBSCRIPTION, REPLICA_PROGRESS_SUBSCRIPTION } from '@/lib/operations';
import type { JobDetail as JobDetailData, JobDetailReplica, JobListItem, ReplicaProgressEvent } from '@/lib/view-types';
import { DateTime } from './date-time';
import { EventLog } from './event-log';
import { JobActions } from './job-actions';
import { LiveIndicator } from './live-indicator';
import { ReplicaTable } from './replica-table';
import { useSession } from './session-gate';
import { StatusBadge } from './status-badge';

interface DetailState {
  load: 'loading' | 'ready' | 'not-found' | 'failed';
  job: JobDetailData | null;
  loadError: GraphQLRequestError | null;
  liveError: GraphQLRequestError | null;
  /** Every replica event received, in order (the event log). */
  events: ReplicaProgressEvent[];
  isFetching: boolean;
  /** Pushed changes that arrived while a fetch was in flight, replayed over its (possibly older) result. */
  eventsDuringFetch: ReplicaProgressEvent[];
  jobUpdateDuringFetch: JobListItem | null;
}

type DetailAction =
  | { type: 'reset' }
  | { type: 'fetchStarted' }
  | { type: 'fetched'; job: JobDetailData | null }
  | { type: 'fetchFailed'; error: GraphQLRequestError }
  | { type: 'replicaEvent'; event: ReplicaProgressEvent }
  | { type: 'jobUpdated'; job: JobListItem }
  | { type: 'liveFailed'; error: GraphQLRequestError };

const INITIAL_STATE: DetailState = {
  load: 'loading',
  job: null,
  loadError: null,
  liveError: null,
  events: [],
  isFetching: false,
  eventsDuringFetch: [],
  jobUpdateDuringFetch: null,
};

/** A replica as the event describes it: status and bytes as of the event, the rest as the event's replica says. */
function applyReplicaEvent(job: JobDetailData, event: ReplicaProgressEvent): JobDetailData {
  const source = event.replica;
  // A status-only event may not repeat the byte count; never show less than the replica itself reports then.
  const bytesCopied =
    event.status === source.status ? Math.max(event.bytesCopied, source.bytesCopied) : event.bytesCopied;
  const index = job.replicas.findIndex((replica) => replica.id === source.id);
  const current: JobDetailReplica | undefined = job.replicas[index];
  const updated: JobDetailReplica = {
    id: source.id,
    order: source.order,
    role: source.role,
    status: event.status,
    scheduledAt: source.scheduledAt,
    startedAt: source.startedAt,
    completedAt: source.completedAt,
    bytesTotal: source.bytesTotal,
    bytesCopied,
    checksum: source.checksum,
    attempts: source.attempts,
    lastError: source.lastError,
    storageSystem: source.storageSystem,
    space: source.space ?? current?.space ?? null,
  };
  const replicas = [...job.replicas];
  if (current) replicas[index] = updated;
  else replicas.push(updated);
  return { ...job, replicas };
}

function applyJobUpdate(job: JobDetailData, update: JobListItem): JobDetailData {
  return { ...job, status: update.status, statusReason: update.statusReason, completedAt: update.completedAt };
}

function detailReducer(state: DetailState, action: DetailAction): DetailState {
  switch (action.type) {
    case 'reset':
      return INITIAL_STATE;
    case 'fetchStarted':
      return { ...state, isFetching: true, eventsDuringFetch: [], jobUpdateDuringFetch: null };
    case 'fetched': {
      const base = { ...state, isFetching: false, eventsDuringFetch: [], jobUpdateDuringFetch: null, loadError: null };
      if (!action.job) return { ...base, load: 'not-found', job: null };
      let job = action.job;
      for (const event of state.eventsDuringFetch) job = applyReplicaEvent(job, event);
      if (state.jobUpdateDuringFetch) job = applyJobUpdate(job, state.jobUpdateDuringFetch);
      return { ...base, load: 'ready', job };
    }
    case 'fetchFailed': {
      const base = { ...state, isFetching: false, eventsDuringFetch: [], jobUpdateDuringFetch: null };
      if (hasErrorCode(action.error, 'NOT_FOUND') || hasErrorCode(action.error, 'BAD_USER_INPUT')) {
        return { ...base, load: 'not-found', job: null, loadError: action.error };
      }
      // A failed refresh keeps what is on screen; only a failed first load replaces it.
      return { ...base, load: state.job ? state.load : 'failed', loadError: action.error };
    }
    case 'replicaEvent':
      return {
        ...state,
        events: [...state.events, action.event],
        eventsDuringFetch: state.isFetching ? [...state.eventsDuringFetch, action.event] : state.eventsDuringFetch,
        job: state.job ? applyReplicaEvent(state.job, action.event) : null,
        liveError: null,
      };
    case 'jobUpdated':
      return {
        ...state,
        jobUpdateDuringFetch: state.isFetching ? action.job : state.jobUpdateDuringFetch,
        job: state.job ? applyJobUpdate(state.job, action.job) : null,
      };
    case 'liveFailed':
      return { ...state, liveError: action.error };
  }
}

export function JobDetail({ jobId }: { jobId: string }) {
  const session = useSession();
  const [state, dispatch] = useReducer(detailReducer, INITIAL_STATE);

  useEffect(() => {
    dispatch({ type: 'reset' });
    let isCancelled = false;
    /** Resume cursor: the id of the last replica event applied. */
    let lastEventId: string | null = null;
    const seenEventIds = new Set<string>();

    const job = latestRequest((signal) => session.request(BACKUP_JOB_QUERY, { id: jobId }, signal), {
      onStart: () => dispatch({ type: 'fetchStarted' }),
      onResult: (result) => dispatch({ type: 'fetched', job: result.backupJob }),
      onError: (error) => dispatch({ type: 'fetchFailed', error }),
    });

    const onLiveError = (error: GraphQLRequestError) => {
      if (isCancelled || session.endIfUnauthenticated(error)) return;
      // The job query reports a missing job more clearly than the subscription can.
      if (hasErrorCode(error, 'NOT_FOUND')) return;
      dispatch({ type: 'liveFailed', error });
    };

    const stopProgress = session.live.subscribe({
      query: REPLICA_PROGRESS_SUBSCRIPTION,
      variables: () => ({ jobId, after: lastEventId }),
      onData: ({ replicaProgress: event }) => {
        if (isCancelled || event.jobId !== jobId || seenEventIds.has(event.id)) return;
        seenEventIds.add(event.id);
        lastEventId = event.id;
        dispatch({ type: 'replicaEvent', event });
      },
      onError: onLiveError,
    });

    const stopJobUpdates = session.live.subscribe({
      query: BACKUP_JOB_UPDATED_SUBSCRIPTION,
      onData: ({ backupJobUpdated: updated }) => {
        if (!isCancelled && updated.id === jobId) dispatch({ type: 'jobUpdated', job: updated });
      },
      onError: onLiveError,
      // Replica events replay from the cursor; the job row itself does not, so reload it after a drop.
      onReconnected: job.load,
    });

    job.load();

    return () => {
      isCancelled = true;
      job.stop();
      stopProgress();
      stopJobUpdates();
    };
  }, [session, jobId]);

  if (state.load === 'loading') {
    return (
      <p className="loading" aria-busy="true">
        Loading backup job…
      </p>
    );
  }

  if (state.load === 'not-found') {
    return (
      <section className="card empty-state" data-testid="job-not-found" aria-labelledby="not-found-heading">
        <h1 id="not-found-heading">Backup job not found</h1>
        <p>
          There is no backup job with id <code>{jobId}</code> in your tenant. It may belong to another tenant, or the
          link may be wrong.
        </p>
        <p>
          <Link href="/jobs">Back to backup jobs</Link>
        </p>
      </section>
    );
  }

  if (state.load === 'failed' || !state.job) {
    return (
      <section className="card" aria-labelledby="load-failed-heading">
        <h1 id="load-failed-heading">Cannot load backup job</h1>
        <p className="notice notice--error" role="alert" data-testid="job-error">
          {state.loadError?.message ?? 'The backup job could not be loaded.'}
        </p>
        <p>
          <Link href="/jobs">Back to backup jobs</Link>
        </p>
      </section>
    );
  }

  const { job, events, liveError, loadError } = state;
  const completedCopies = job.replicas.filter((replica) => replica.status === 'COMPLETED').length;

  return (
    <article aria-labelledby="job-heading" data-testid="job-detail" data-job-id={job.id}>
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <Link href="/jobs">Backup jobs</Link>
        <span aria-hidden="true"> / </span>
        <span aria-current="page">{job.datasetKey}</span>
      </nav>

      <div className="page-header">
        <div>
          <h1 id="job-heading">
            <span data-testid="job-dataset-key">{job.datasetKey}</span>{' '}
            <span className="page-header__version" data-testid="job-version">
              v{job.version}
            </span>
          </h1>
          <p className="page-header__meta">
            Job <code>{job.id}</code>
          </p>
        </div>
        <div className="page-header__aside">
          <StatusBadge status={job.status} testId="job-status" />
          <LiveIndicator connection={session.live} isStopped={liveError !== null} />
        </div>
      </div>
      {job.statusReason ? (
        <p className="notice notice--info" data-testid="job-status-reason">
          {job.statusReason}
        </p>
      ) : null}
      <JobActions jobId={job.id} status={job.status} replicaStatuses={job.replicas.map((replica) => replica.status)} />

      {liveError ? (
        <p className="notice notice--warning" role="alert" data-testid="live-error">
          Live updates stopped: {liveError.message} Reload the page to resume.
        </p>
      ) : null}
      {loadError && state.load === 'ready' ? (
        <p className="notice notice--warning" role="alert">
          Could not refresh the job: {loadError.message}
        </p>
      ) : null}

      <div className="grid grid--two">
        <section className="card" aria-labelledby="summary-heading">
          <h2 id="summary-heading">Summary</h2>
          <dl className="facts">
            <div>
              <dt>Requested by</dt>
              <dd>
                {job.identity.displayName} <span className="muted">({job.identity.externalId})</span>
              </dd>
            </div>
            <div>
              <dt>Created</dt>
              <dd>
                <DateTime value={job.createdAt} testId="job-created-at" />
              </dd>
            </div>
            <div>
              <dt>Completed</dt>
              <dd>
                <DateTime value={job.completedAt} testId="job-completed-at" />
              </dd>
            </div>
            <div>
              <dt>Copies completed</dt>
              <dd data-testid="job-copies">
                {completedCopies} of {job.scheme.copies}
              </dd>
            </div>
          </dl>
        </section>

        <section className="card" aria-labelledby="scheme-heading" data-testid="job-scheme">
          <h2 id="scheme-heading">Backup scheme</h2>
          <dl className="facts">
            <div>
              <dt>Policy template</dt>
              <dd>
                {job.scheme.template.name} <span className="muted">(version {job.scheme.templateVersion})</span>
              </dd>
            </div>
            <div>
              <dt>Matched by</dt>
              <dd>{job.scheme.matchedBy}</dd>
            </div>
            <div>
              <dt>Copies</dt>
              <dd data-testid="scheme-copies">{job.scheme.copies}</dd>
            </div>
            <div>
              <dt>Delay between copies</dt>
              <dd data-testid="scheme-delay">{formatDuration(job.scheme.delaySeconds)}</dd>
            </div>
            <div>
              <dt>Planned starts</dt>
              <dd>
                {job.scheme.plannedOffsetsSeconds.length === 0 ? (
                  <span className="muted">—</span>
                ) : (
                  <ol className="inline-list">
                    {job.scheme.plannedOffsetsSeconds.map((offset, index) => (
                      // Offsets are positional (copy k starts at offset k); the index is the identity.
                      // biome-ignore lint/suspicious/noArrayIndexKey: see above
                      <li key={index}>
                        <span className="muted">#{index}</span> T1{offset > 0 ? ` + ${formatDuration(offset)}` : ''}
                      </li>
                    ))}
                  </ol>
                )}
              </dd>
            </div>
            <div>
              <dt>Skipped storage</dt>
              <dd>
                {job.scheme.skipped.length === 0 ? (
                  <span className="muted">None</span>
                ) : (
                  <ul className="plain-list" data-testid="scheme-skipped">
                    {job.scheme.skipped.map((skipped) => (
                      <li key={skipped.storageSystem.name}>
                        <strong>{skipped.storageSystem.name}</strong>: {skipped.reason}
                      </li>
                    ))}
                  </ul>
                )}
              </dd>
            </div>
          </dl>
        </section>
      </div>

      <section className="card card--flush" aria-labelledby="replicas-heading">
        <h2 id="replicas-heading" className="card__title">
          Replicas
        </h2>
        <ReplicaTable
          replicas={job.replicas}
          canRetry={session.can('replica:retry') && job.status !== 'RUNNING' && job.status !== 'PENDING'}
        />
      </section>

      <section className="card" aria-labelledby="events-heading">
        <h2 id="events-heading">Event log</h2>
        <EventLog events={events} />
      </section>
    </article>
  );
}
