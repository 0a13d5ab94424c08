'use client';

import Link from 'next/link';
import { useRouter, useSearchParams } from 'next/navigation';
import { Button, Group, NativeSelect, Paper, TextInput } from '@mantine/core';
import { type FormEvent, type MouseEvent, useState } from 'react';
import type { BackupJobFilter } from '@/lib/gql/graphql';
import { jobHref, jobProgress } from '@/lib/job-progress';
import { JOB_FILTER_CHOICES_QUERY, JOBS_PAGE_SIZE } from '@/lib/operations';
import type { BackupJobStatus, JobListItem } from '@/lib/view-types';
import { DateTime } from './date-time';
import { ErrorNotice } from './error-notice';
import { LiveIndicator } from './live-indicator';
import { ProgressBar } from './progress-bar';
import { useSession } from './session-gate';
import { StatusBadge } from './status-badge';
import { useLiveJobs } from './use-live-jobs';
import { useQuery } from './use-query';

const JOB_STATUSES: readonly BackupJobStatus[] = ['PENDING', 'RUNNING', 'COMPLETED', 'PARTIAL', 'FAILED', 'CANCELLED'];

const isJobStatus = (value: string | null): value is BackupJobStatus =>
  value !== null && (JOB_STATUSES as readonly string[]).includes(value);

export function JobsList() {
  const session = useSession();
  const searchParams = useSearchParams();
  const initialStatus = searchParams.get('status');
  const [filter, setFilter] = useState<BackupJobFilter>(isJobStatus(initialStatus) ? { status: initialStatus } : {});
  /** The cursors of the pages before this one: the last is this page's `after`. */
  const [cursors, setCursors] = useState<string[]>([]);
  const after = cursors.at(-1) ?? null;
  const state = useLiveJobs({ filter, first: JOBS_PAGE_SIZE, after });
  const { jobs, totalCount, loadError, liveError } = state;
  const identities = useQuery(JOB_FILTER_CHOICES_QUERY, {}, { skip: !session.can('identity:read') });
  const firstShown = cursors.length * JOBS_PAGE_SIZE + 1;
  const isFiltered = Object.keys(filter).length > 0;

  const applyFilter = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const status = String(form.get('status') ?? '');
    const datasetKey = String(form.get('datasetKey') ?? '').trim();
    const identityId = String(form.get('identityId') ?? '');
    setFilter({
      ...(isJobStatus(status) ? { status } : {}),
      ...(datasetKey ? { datasetKey } : {}),
      ...(identityId ? { identityId } : {}),
    });
    setCursors([]);
  };

  return (
    <section aria-labelledby="jobs-heading">
      <div className="page-header">
        <div>
          <h1 id="jobs-heading">Backup jobs</h1>
          <p className="page-header__meta" data-testid="jobs-count">
            {jobs === null
              ? 'Loading…'
              : jobs.length === 0
                ? `0 jobs${isFiltered ? ' match the filter' : ''}`
                : `${firstShown}–${firstShown + jobs.length - 1} of ${totalCount} ${totalCount === 1 ? 'job' : 'jobs'}${isFiltered ? ' matching the filter' : ''}`}
          </p>
        </div>
        <LiveIndicator connection={session.live} isStopped={liveError !== null} />
      </div>

      <Paper
        withBorder
        p="sm"
        mb="md"
        component="form"
        onSubmit={applyFilter}
        aria-label="Filter the jobs"
        data-testid="jobs-filter"
      >
        <Group align="flex-end" wrap="wrap" gap="sm">
          <NativeSelect
            name="status"
            label="Status"
            defaultValue={filter.status ?? ''}
            data={[
              { value: '', label: 'Any status' },
              ...JOB_STATUSES.map((status) => ({ value: status, label: status })),
            ]}
          />
          <TextInput
            name="datasetKey"
            label="Dataset key"
            placeholder="finance/ledger"
            defaultValue={filter.datasetKey ?? ''}
          />
          {identities.data ? (
            <NativeSelect
              name="identityId"
              label="Requested by"
              defaultValue={filter.identityId ?? ''}
              data={[
                { value: '', label: 'Anyone' },
                ...identities.data.identities.map((identity) => ({ value: identity.id, label: identity.externalId })),
              ]}
            />
          ) : null}
          <Button type="submit" variant="default">
            Apply
          </Button>
        </Group>
      </Paper>

      {liveError ? (
        <ErrorNotice error={liveError} title="Live updates stopped; reload the page to resume" testId="live-error" />
      ) : null}
      {loadError ? <ErrorNotice error={loadError} title="Could not load the backup jobs" testId="jobs-error" /> : null}

      {jobs === null ? (
        loadError ? null : (
          <p className="loading" aria-busy="true">
            Loading backup jobs…
          </p>
        )
      ) : jobs.length === 0 && isFiltered ? (
        <div className="card empty-state" data-testid="jobs-none-match">
          <h2>No job matches the filter</h2>
          <p>Change the filter, or set every field back to “any” to see all jobs.</p>
        </div>
      ) : jobs.length === 0 && cursors.length === 0 ? (
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
      {cursors.length > 0 || state.hasNextPage ? (
        <Group mt="md" data-testid="jobs-paging">
          <Button
            variant="default"
            disabled={cursors.length === 0}
            onClick={() => setCursors((list) => list.slice(0, -1))}
          >
            Previous page
          </Button>
          <Button
            variant="default"
            disabled={!state.hasNextPage || state.endCursor === null}
            onClick={() => {
              const next = state.endCursor;
              if (next !== null) setCursors((list) => [...list, next]);
            }}
          >
            Next page
          </Button>
        </Group>
      ) : null}
    </section>
  );
}

function JobRow({ job }: { job: JobListItem }) {
  const router = useRouter();
  const href = jobHref(job.id);
  const progress = jobProgress(job);

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
        <div className="copies" title={progress.replicaSummary || undefined}>
          <span data-testid="job-copies">
            {progress.completedCopies}/{progress.replicas.length} copies
          </span>
          <ProgressBar
            bytesCopied={progress.bytesCopied}
            bytesTotal={progress.bytesTotal}
            isComplete={progress.isComplete}
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
