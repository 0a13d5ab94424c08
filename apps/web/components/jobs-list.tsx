'use client';

import Link from 'next/link';
import { useRouter } from 'next/navigation';
import type { MouseEvent } from 'react';
import { jobHref, jobProgress } from '@/lib/job-progress';
import { JOBS_PAGE_SIZE } from '@/lib/operations';
import type { JobListItem } from '@/lib/view-types';
import { DateTime } from './date-time';
import { LiveIndicator } from './live-indicator';
import { ProgressBar } from './progress-bar';
import { useSession } from './session-gate';
import { StatusBadge } from './status-badge';
import { useLiveJobs } from './use-live-jobs';

export function JobsList() {
  const session = useSession();
  const state = useLiveJobs({ filter: {}, first: JOBS_PAGE_SIZE, after: null });
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
