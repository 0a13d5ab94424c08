'use client';

import { useEffect, useReducer, useRef } from 'react';
import type { BackupJobFilter } from '@/lib/gql/graphql';
import type { GraphQLRequestError } from '@/lib/graphql-client';
import { latestRequest } from '@/lib/latest-request';
import { BACKUP_JOB_UPDATED_SUBSCRIPTION, BACKUP_JOBS_QUERY } from '@/lib/operations';
import type { BackupJobsQueryResult, JobListItem } from '@/lib/view-types';
import { useSession } from './session-gate';

export interface LiveJobsQuery {
  filter: BackupJobFilter;
  first: number;
  /** The cursor of the page before this one; null for the first page. */
  after: string | null;
}

interface LiveJobsState {
  /** What the page shows: pushed updates are applied by its filter. */
  query: LiveJobsQuery;
  /** null until the page has loaded. */
  jobs: JobListItem[] | null;
  totalCount: number;
  hasNextPage: boolean;
  endCursor: string | null;
  loadError: GraphQLRequestError | null;
  liveError: GraphQLRequestError | null;
  isFetching: boolean;
  /** Pushed updates that arrived while a fetch was in flight; replayed over its (possibly older) result. */
  updatesDuringFetch: JobListItem[];
}

type LiveJobsAction =
  | { type: 'reset'; query: LiveJobsQuery }
  | { type: 'fetchStarted' }
  | { type: 'fetched'; result: BackupJobsQueryResult['backupJobs'] }
  | { type: 'fetchFailed'; error: GraphQLRequestError }
  | { type: 'jobUpdated'; job: JobListItem }
  | { type: 'liveFailed'; error: GraphQLRequestError };

const initialState = (query: LiveJobsQuery): LiveJobsState => ({
  query,
  jobs: null,
  totalCount: 0,
  hasNextPage: false,
  endCursor: null,
  loadError: null,
  liveError: null,
  isFetching: false,
  updatesDuringFetch: [],
});

/** Whether a job belongs in a list asked for with `filter` (the same fields the API filters on). */
export function jobMatchesFilter(job: JobListItem, filter: BackupJobFilter): boolean {
  if (filter.status && job.status !== filter.status) return false;
  if (filter.datasetKey && job.datasetKey !== filter.datasetKey) return false;
  if (filter.identityId && job.identity.id !== filter.identityId) return false;
  return true;
}

/**
 * A pushed job applied to one page of a list: replaced in place; one that no longer matches the filter leaves;
 * one not seen before joins the first page at the top (later pages only change in place).
 */
function applyUpdate(
  state: { jobs: JobListItem[]; totalCount: number },
  job: JobListItem,
  query: LiveJobsQuery,
): { jobs: JobListItem[]; totalCount: number } {
  const index = state.jobs.findIndex((existing) => existing.id === job.id);
  if (!jobMatchesFilter(job, query.filter)) {
    if (index === -1) return state;
    return { jobs: state.jobs.filter((existing) => existing.id !== job.id), totalCount: state.totalCount - 1 };
  }
  if (index !== -1) {
    const jobs = [...state.jobs];
    jobs[index] = job;
    return { jobs, totalCount: state.totalCount };
  }
  if (query.after !== null) return state;
  return { jobs: [job, ...state.jobs], totalCount: state.totalCount + 1 };
}

function liveJobsReducer(state: LiveJobsState, action: LiveJobsAction): LiveJobsState {
  const { query } = state;
  switch (action.type) {
    case 'reset':
      return initialState(action.query);
    case 'fetchStarted':
      return { ...state, isFetching: true, updatesDuringFetch: [] };
    case 'fetched': {
      let page = { jobs: action.result.edges.map((edge) => edge.node), totalCount: action.result.totalCount };
      for (const update of state.updatesDuringFetch) page = applyUpdate(page, update, query);
      return {
        ...state,
        ...page,
        hasNextPage: action.result.pageInfo.hasNextPage,
        endCursor: action.result.pageInfo.endCursor ?? null,
        loadError: null,
        isFetching: false,
        updatesDuringFetch: [],
      };
    }
    case 'fetchFailed':
      return { ...state, loadError: action.error, isFetching: false, updatesDuringFetch: [] };
    case 'jobUpdated': {
      const updatesDuringFetch = state.isFetching
        ? [...state.updatesDuringFetch, action.job]
        : state.updatesDuringFetch;
      if (!state.jobs) return { ...state, updatesDuringFetch };
      const page = applyUpdate({ jobs: state.jobs, totalCount: state.totalCount }, action.job, query);
      return { ...state, ...page, updatesDuringFetch, liveError: null };
    }
    case 'liveFailed':
      return { ...state, liveError: action.error };
  }
}

/**
 * One page of the tenant's backup jobs, kept live: it subscribes to `backupJobUpdated` first and then loads the
 * page, so a change made while the page loads is caught by one or the other; after a dropped connection the page
 * is loaded again (updates pushed while the socket was down are gone). `onUpdate` sees every pushed job.
 */
export function useLiveJobs(query: LiveJobsQuery, onUpdate?: (job: JobListItem) => void) {
  const session = useSession();
  const key = JSON.stringify(query);
  const [state, dispatch] = useReducer(liveJobsReducer, query, initialState);
  const onUpdateRef = useRef(onUpdate);
  useEffect(() => {
    onUpdateRef.current = onUpdate;
  }, [onUpdate]);

  useEffect(() => {
    const variables = JSON.parse(key) as LiveJobsQuery;
    dispatch({ type: 'reset', query: variables });
    const page = latestRequest((signal) => session.request(BACKUP_JOBS_QUERY, variables, signal), {
      onStart: () => dispatch({ type: 'fetchStarted' }),
      onResult: (result) => dispatch({ type: 'fetched', result: result.backupJobs }),
      onError: (error) => dispatch({ type: 'fetchFailed', error }),
    });

    const unsubscribe = session.live.subscribe({
      query: BACKUP_JOB_UPDATED_SUBSCRIPTION,
      onData: (data) => {
        dispatch({ type: 'jobUpdated', job: data.backupJobUpdated });
        onUpdateRef.current?.(data.backupJobUpdated);
      },
      onError: (error) => {
        if (session.endIfUnauthenticated(error)) return;
        dispatch({ type: 'liveFailed', error });
      },
      onReconnected: page.load,
    });
    page.load();

    return () => {
      page.stop();
      unsubscribe();
    };
  }, [session, key]);

  return state;
}
