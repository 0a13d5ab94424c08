'use client';

import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { type MouseEvent, useEffect, useReducer } from 'react';
import { type GraphQLRequestError, toRequestError } from '@/lib/graphql-client';
import { BACKUP_JOB_UPDATED_SUBSCRIPTION, BACKUP_JOBS_QUERY, JOBS_PAGE_SIZE } from '@/lib/operations';
import type { BackupJobsQueryResult, JobListItem } from '@/lib/view-types';
import { DateTime } from './date-time';
import { LiveIndicator } from './live-indicator';
import { ProgressBar } from './progress-bar';
import { useSession } from './session-gate';
import { StatusBadge } from './status-badge';

interface JobsState {
  /** null until the first page has loaded. */
  jobs: JobListItem[] | null;
  totalCount: number;
  loadError: GraphQLRequestError | null;
  liveError: GraphQLRequestError | null;
  isFetching: boolean;
  /** Pushed updates that arrived while a fetch was in flight; replayed over its (possibly older) result. */
  updatesDuringFetch: JobListItem[];
}

type JobsAction =
  | { type: 'reset' }
  | { type: 'fetchStarted' }
  | { type: 'fetched'; result: BackupJobsQueryResult['backupJobs'] }
  | { type: 'fetchFailed'; error: GraphQLRequestError }
  | { type: 'jobUpdated'; job: JobListItem }
  | { type: 'liveFailed'; error: GraphQLRequestError };

const INITIAL_STATE: JobsState = {
  jobs: null,
  totalCount: 0,
  loadError: null,
  liveError: null,
  isFetching: false,
  updatesDuringFetch: [],
};

/** Replaces the job in place, or puts a job not seen before at the top. */
function upsertJob(jobs: readonly JobListItem[], job: JobListItem): { jobs: JobListItem[]; isNew: boolean } {
  const index = jobs.findIndex((existing) => existing.id === job.id);
  if (index === -1) return { jobs: [job, ...jobs], isNew: true };
  const next = [...jobs];
  next[index] = job;
  return { jobs: next, isNew: false };
}

function jobsReducer(state: JobsState, action: JobsAction): JobsState {
  switch (action.type) {
    case 'reset':
      return INITIAL_STATE;
    case 'fetchStarted':
      return { ...state, isFetching: true, updatesDuringFetch: [] };
    case 'fetched': {
      let jobs = action.result.edges.map((edge) => edge.node);
      let totalCount = action.result.totalCount;
      for (const update of state.updatesDuringFetch) {
        const upserted = upsertJob(jobs, update);
        jobs = upserted.jobs;
        if (upserted.isNew) totalCount += 1;
      }
      return { ...state, jobs, totalCount, loadError: null, isFetching: false, updatesDuringFetch: [] };
    }
    case 'fetchFailed':
      return { ...state, loadError: action.error, isFetching: false, updatesDuringFetch: [] };
    case 'jobUpdated': {
      const updatesDuringFetch = state.isFetching
        ? [...state.updatesDuringFetch, action.job]
        : state.updatesDuringFetch;
      if (!state.jobs) return { ...state, updatesDuringFetch };
      const { jobs, isNew } = upsertJob(state.jobs, action.job);
      return { ...state, jobs, totalCount: state.totalCount + (isNew ? 1 : 0), updatesDuringFetch, liveError: null };
    }
    case 'liveFailed':
      return { ...state, liveError: action.error };
  }
}

export function JobsList() {
  const session = useSession();
  const [state, dispatch] = useReducer(jobsReducer, INITIAL_STATE);

  useEffect(() => {
    dispatch({ type: 'reset' });
    let isCancelled = false;
    let fetchSequence = 0;
    const controllers = new Set<AbortController>();

    const load = () => {
      const sequence = ++fetchSequence;
      const controller = new AbortController();
      controllers.add(controller);
      dispatch({ type: 'fetchStarted' });
      session
        .request(BACKUP_JOBS_QUERY, { first: JOBS_PAGE_SIZE }, controller.signal)
        .then((result) => {
          if (!isCancelled && sequence === fetchSequence) dispatch({ type: 'fetched', result: result.backupJobs });
        })
        .catch((error: unknown) => {
          if (isCancelled || controller.signal.aborted || sequence !== fetchSequence) return;
          dispatch({ type: 'fetchFailed', error: toRequestError(error) });
        })
        .finally(() => controllers.delete(controller));
    };

    // Subscribe first, then load: an update that happens while the page loads is caught by one or the other.
    const unsubscribe = session.live.subscribe({
      query: BACKUP_JOB_UPDATED_SUBSCRIPTION,
      onData: (data) => dispatch({ type: 'jobUpdated', job: data.backupJobUpdated }),
      onError: (error) => {
        if (session.endIfUnauthenticated(error)) return;
        dispatch({ type: 'liveFailed', error });
      },
      // Updates pushed while the socket was down are gone; reload the page of jobs once to catch up.
      onReconnected: load,
    });
    load();

    return () => {
      isCancelled = true;
      unsubscribe();
      for (const controller of controllers) controller.abort();
    };
  }, [session]);

  const { jobs, totalCount, loadError, liveError } = state;

  return (
    <section aria-labelledby="jobs-heading">
      <div className="page-header">
        <div>
          <h1 id="jobs-heading">Backup jobs</h1>
          <p className="page-header__meta" data-testid="jobs-count">
            {jobs === null ? 'Loading…' : `${totalCount} ${totalCount === 1 ? 'job' : 'jobs'}`}
          </p>
        </div>
        <LiveIndicator connection={session.live} isStopped={liveError !== null} />
      </div>

      {liveError ? (
        <p className="notice notice--warning" role="alert" data-testid="live-error">
          Live updates stopped: {liveError.message} Reload the page to resume.
        </p>
      ) : null}
      {loadError ? (
        <p className="notice notice--error" role="alert" data-testid="jobs-error">
          Could not load backup jobs: {loadError.message}
        </p>
      ) : null}

      {jobs === null ? (
        loadError ? null : (
          <p className="loading" aria-busy="true">
            Loading backup jobs…
          </p>
        )
      ) : jobs.length === 0 ? (
        <div className="card empty-state" data-testid="jobs-empty">
          <h2>No backup jobs yet</h2>
          <p>Jobs appear here, live, as soon as an integrator or terminal requests a backup.</p>
        </div>
      ) : (
        <div className="card card--flush table-scroll">
          <table className="data-table data-table--interactive" data-testid="jobs-table">
            <caption className="visually-hidden">Backup jobs, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Dataset</th>
                <th scope="col" className="numeric">
                  Version
                </th>
                <th scope="col">Status</th>
                <th scope="col">Copies</th>
                <th scope="col">Requested by</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {jobs.map((job) => (
                <JobRow key={job.id} job={job} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function jobHref(jobId: string): string {
  return `/jobs/${encodeURIComponent(jobId)}`;
}

function JobRow({ job }: { job: JobListItem }) {
  const router = useRouter();
  const href = jobHref(job.id);
  const replicas = [...job.replicas].sort((a, b) => a.order - b.order);
  const completed = replicas.filter((replica) => replica.status === 'COMPLETED').length;
  const counted = replicas.filter((replica) => replica.status !== 'SKIPPED');
  const bytesCopied = counted.reduce((sum, replica) => sum + replica.bytesCopied, 0);
  const bytesTotal = counted.reduce((sum, replica) => sum + replica.bytesTotal, 0);
  const replicaDetails = replicas
    .map((replica) => `#${replica.order} ${replica.role} on ${replica.storageSystem.name}: ${replica.status}`)
    .join('\n');

  // The dataset link is the accessible way in; clicking anywhere else on the row is a convenience for the mouse.
  const onRowClick = (event: MouseEvent<HTMLTableRowElement>) => {
    if (event.defaultPrevented || (event.target as HTMLElement).closest('a, button')) return;
    router.push(href);
  };

  return (
    <tr data-testid="job-row" data-job-id={job.id} data-status={job.status} onClick={onRowClick}>
      <th scope="row" className="cell-primary">
        <Link href={href} className="row-link" data-testid="job-link">
          {job.datasetKey}
        </Link>
      </th>
      <td className="numeric" data-testid="job-version">
        {job.version}
      </td>
      <td>
        <StatusBadge status={job.status} testId="job-status" />
      </td>
      <td>
        <div className="copies" title={replicaDetails || undefined}>
          <span data-testid="job-copies">
            {completed}/{replicas.length} copies
          </span>
          <ProgressBar
            bytesCopied={bytesCopied}
            bytesTotal={bytesTotal}
            isComplete={counted.length > 0 && counted.every((replica) => replica.status === 'COMPLETED')}
            label={`Bytes copied for ${job.datasetKey} version ${job.version}`}
            isCompact
          />
        </div>
      </td>
      <td>{job.identity.externalId}</td>
      <td>
        <DateTime value={job.createdAt} testId="job-created-at" />
      </td>
    </tr>
  );
}
