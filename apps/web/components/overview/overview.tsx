'use client';

import { Anchor, Badge, Group, Loader, Paper, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import Link from 'next/link';
import { type ReactNode, useCallback, useRef } from 'react';
import type { DatasetProtectionQuery } from '@/lib/gql/graphql';
import type { GraphQLRequestError } from '@/lib/graphql-client';
import { jobHref, jobProgress } from '@/lib/job-progress';
import { DATASET_PROTECTION_QUERY, STORAGE_CAPACITY_QUERY } from '@/lib/operations';
import type { JobListItem } from '@/lib/view-types';
import { DateTime } from '../date-time';
import { ErrorNotice } from '../error-notice';
import { LiveIndicator } from '../live-indicator';
import { ProgressBar } from '../progress-bar';
import { useSession } from '../session-gate';
import { StatusBadge } from '../status-badge';
import { useLiveJobs } from '../use-live-jobs';
import { useQuery } from '../use-query';
import { CapacityChart } from './capacity-chart';

const RUNNING_SHOWN = 20;
const FAILURES_SHOWN = 8;
const TERMINAL_STATUSES = new Set(['COMPLETED', 'PARTIAL', 'FAILED', 'CANCELLED']);

/**
 * /overview: what a tenant administrator checks first. Running jobs move live (graphql-ws); capacity and the
 * datasets' protection are read again whenever a pushed update says a copy or a job has finished.
 */
export function Overview() {
  const session = useSession();
  const canSeeStorage = session.can('storage:read');
  const canSeeDatasets = session.can('dataset:read');
  const capacity = useQuery(STORAGE_CAPACITY_QUERY, {}, { skip: !canSeeStorage });
  const protection = useQuery(DATASET_PROTECTION_QUERY, {}, { skip: !canSeeDatasets });

  // What each job looked like in the last update: a finished copy or job changes capacity and protection.
  const lastSeen = useRef(new Map<string, string>());
  const { reload: reloadCapacity } = capacity;
  const { reload: reloadProtection } = protection;
  const onUpdate = useCallback(
    (job: JobListItem) => {
      const progress = jobProgress(job);
      const signature = `${job.status}:${progress.completedCopies}`;
      const previous = lastSeen.current.get(job.id);
      lastSeen.current.set(job.id, signature);
      if (previous === signature) return;
      if (progress.completedCopies > 0 || TERMINAL_STATUSES.has(job.status)) {
        reloadCapacity();
        reloadProtection();
      }
    },
    [reloadCapacity, reloadProtection],
  );
  const running = useLiveJobs({ filter: { status: 'RUNNING' }, first: RUNNING_SHOWN, after: null }, onUpdate);
  const failed = useLiveJobs({ filter: { status: 'FAILED' }, first: FAILURES_SHOWN, after: null });
  const partial = useLiveJobs({ filter: { status: 'PARTIAL' }, first: FAILURES_SHOWN, after: null });
  const failures =
    failed.jobs && partial.jobs
      ? [...failed.jobs, ...partial.jobs]
          .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
          .slice(0, FAILURES_SHOWN)
      : null;
  const liveError = running.liveError ?? failed.liveError ?? partial.liveError;

  return (
    <Stack gap="lg">
      <Group justify="space-between" align="flex-start" wrap="wrap">
        <div>
          <Title order={1}>Overview</Title>
          <Text c="dimmed">Running jobs, storage capacity and the datasets that need attention, as they change.</Text>
        </div>
        <LiveIndicator connection={session.live} isStopped={liveError !== null} />
      </Group>
      {liveError ? (
        <ErrorNotice error={liveError} title="Live updates stopped; reload the page to resume" testId="live-error" />
      ) : null}

      <SimpleGrid cols={{ base: 1, md: 2 }} spacing="lg">
        <Panel
          title="Running jobs"
          id="running-heading"
          error={running.loadError}
          isLoading={running.jobs === null}
          what="the running jobs"
          testId="running-error"
        >
          {running.jobs?.length === 0 ? (
            <Text data-testid="running-empty">
              No job is running. A backup requested by an integrator or terminal shows here with its progress.
            </Text>
          ) : (
            <Stack gap="sm" data-testid="running-jobs" aria-live="polite">
              {running.jobs?.map((job) => (
                <RunningJob key={job.id} job={job} />
              ))}
              {running.totalCount > (running.jobs?.length ?? 0) ? (
                <Anchor component={Link} href="/jobs?status=RUNNING">
                  All {running.totalCount} running jobs
                </Anchor>
              ) : null}
            </Stack>
          )}
        </Panel>

        {canSeeStorage ? (
          <Panel
            title="Capacity by storage system"
            id="capacity-heading"
            error={capacity.error}
            isLoading={capacity.data === null}
            what="the storage capacity"
            testId="capacity-error"
          >
            {capacity.data?.storageSystems.length === 0 ? (
              <Text data-testid="capacity-empty">
                No storage system yet.{' '}
                {session.can('storage:write') ? (
                  <Anchor component={Link} href="/storage">
                    Register one on the storage page.
                  </Anchor>
                ) : (
                  'A tenant administrator registers them.'
                )}
              </Text>
            ) : capacity.data ? (
              <CapacityChart systems={capacity.data.storageSystems} />
            ) : null}
          </Panel>
        ) : null}

        <Panel
          title="Recent failures"
          id="failures-heading"
          error={failed.loadError ?? partial.loadError}
          isLoading={failures === null}
          what="the failed jobs"
          testId="failures-error"
        >
          {failures?.length === 0 ? (
            <Text data-testid="failures-empty">No failed or partial job. Every requested copy was written.</Text>
          ) : (
            <Stack gap="xs" data-testid="failures">
              {failures?.map((job) => (
                <FailedJob key={job.id} job={job} />
              ))}
            </Stack>
          )}
        </Panel>

        {canSeeDatasets ? (
          <Panel
            title="Datasets below their required copies"
            id="protection-heading"
            error={protection.error}
            isLoading={protection.data === null}
            what="the datasets' protection"
            testId="protection-error"
          >
            {protection.data ? (
              <UnderProtected datasets={protection.data.datasets} running={running.jobs ?? []} />
            ) : null}
          </Panel>
        ) : null}
      </SimpleGrid>
    </Stack>
  );
}

/** One section of the overview: its error in plain words, a loading line, or what it loaded. */
function Panel({
  title,
  id,
  error,
  isLoading,
  what,
  testId,
  children,
}: {
  title: string;
  id: string;
  error: GraphQLRequestError | null;
  isLoading: boolean;
  /** What the section loads, for its loading and error lines. */
  what: string;
  testId: string;
  children: ReactNode;
}) {
  return (
    <Paper withBorder p="md" component="section" aria-labelledby={id} miw={0}>
      <Title order={2} size="h4" id={id} mb="sm">
        {title}
      </Title>
      {error ? (
        <ErrorNotice error={error} title={`Could not load ${what}`} testId={testId} />
      ) : isLoading ? (
        <Group gap="xs">
          <Loader size="xs" />
          <Text>Loading {what}…</Text>
        </Group>
      ) : (
        children
      )}
    </Paper>
  );
}

/** What a running job is doing now, in words: the copy being written, or the delay before the next one. */
function currentStep(job: JobListItem): string {
  const replicas = jobProgress(job).replicas;
  const active = replicas.find((replica) => replica.status === 'COPYING' || replica.status === 'VERIFYING');
  if (active) {
    const verb = active.status === 'COPYING' ? 'Copying to' : 'Verifying on';
    return `${verb} ${active.storageSystem.name} (copy ${active.order + 1} of ${replicas.length})`;
  }
  const waiting = replicas.find((replica) => replica.status === 'WAITING');
  if (waiting) return `Waiting for the delay before copy ${waiting.order + 1} on ${waiting.storageSystem.name}`;
  return 'Starting';
}

function RunningJob({ job }: { job: JobListItem }) {
  const progress = jobProgress(job);
  return (
    <div data-testid="running-job" data-job-id={job.id} data-dataset={job.datasetKey}>
      <Group justify="space-between" gap="xs" wrap="wrap">
        <Anchor component={Link} href={jobHref(job.id)} fw={600} className="break-anywhere">
          {job.datasetKey} v{job.version}
        </Anchor>
        <Text size="sm" data-testid="running-copies">
          {progress.completedCopies} of {progress.replicas.length} copies
        </Text>
      </Group>
      <Text size="sm" c="dimmed" data-testid="running-step">
        {currentStep(job)} · requested by {job.identity.externalId}
      </Text>
      <ProgressBar
        bytesCopied={progress.bytesCopied}
        bytesTotal={progress.bytesTotal}
        isComplete={progress.isComplete}
        label={`Bytes copied for ${job.datasetKey} version ${job.version}`}
      />
    </div>
  );
}

function FailedJob({ job }: { job: JobListItem }) {
  return (
    <div data-testid="failed-job" data-job-id={job.id} data-status={job.status}>
      <Group gap="xs" wrap="wrap">
        <StatusBadge status={job.status} />
        <Anchor component={Link} href={jobHref(job.id)} fw={600} className="break-anywhere">
          {job.datasetKey} v{job.version}
        </Anchor>
        <Text size="sm" c="dimmed">
          <DateTime value={job.createdAt} />
        </Text>
      </Group>
      {job.statusReason ? (
        <Text size="sm" data-testid="failed-reason">
          {job.statusReason}
        </Text>
      ) : null}
    </div>
  );
}

type ProtectedDataset = DatasetProtectionQuery['datasets'][number];

function UnderProtected({ datasets, running }: { datasets: ProtectedDataset[]; running: JobListItem[] }) {
  const below = datasets.filter((dataset) => dataset.compliance.copiesAchieved < dataset.compliance.copiesRequired);
  if (below.length === 0) {
    return (
      <Text data-testid="protection-ok">
        {datasets.length === 0
          ? 'No dataset has been backed up yet.'
          : `All ${datasets.length} ${datasets.length === 1 ? 'dataset has' : 'datasets have'} the copies their policy requires.`}
      </Text>
    );
  }
  return (
    <Table.ScrollContainer minWidth={0}>
      <Table data-testid="under-protected" className="responsive-table">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Dataset</Table.Th>
            <Table.Th>Owner</Table.Th>
            <Table.Th>Verified copies</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {below.map((dataset) => {
            const { compliance } = dataset;
            const isBeingWritten = running.some(
              (job) => job.datasetKey === dataset.key && job.identity.id === dataset.identity.id,
            );
            return (
              <Table.Tr
                key={`${dataset.identity.id}/${dataset.key}`}
                data-testid="under-protected-dataset"
                data-dataset={dataset.key}
              >
                <Table.Td data-label="Dataset" className="break-anywhere">
                  {dataset.key}
                  {compliance.latestVersion !== null && compliance.latestVersion !== undefined
                    ? ` v${compliance.latestVersion}`
                    : ''}
                </Table.Td>
                <Table.Td data-label="Owner">{dataset.identity.externalId}</Table.Td>
                <Table.Td data-label="Verified copies">
                  <Group gap="xs" wrap="wrap">
                    <Text size="sm" data-testid="protection-copies">
                      {compliance.copiesAchieved} of {compliance.copiesRequired}
                    </Text>
                    {isBeingWritten ? (
                      <Badge color="blue.9" variant="light">
                        backup running
                      </Badge>
                    ) : null}
                  </Group>
                </Table.Td>
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
