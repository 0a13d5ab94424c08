import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { request } from '../api-client.js';
import { type CliContext, connectionOf } from '../cli-context.js';
import { guarded, withJson } from '../command-action.js';
import type { BackupJobStatus } from '../generated/graphql.js';
import { manPage } from '../help-text.js';
import { verifiedCopies } from '../job-view.js';
import { DATASETS_QUERY, HISTORY_QUERY, JOBS_QUERY } from '../operations.js';
import { formatBytes, formatTime, printJson, printLine, table } from '../output.js';

const JOB_STATUSES: readonly BackupJobStatus[] = ['PENDING', 'RUNNING', 'COMPLETED', 'PARTIAL', 'FAILED', 'CANCELLED'];

/** A commander parser for a count option: a whole number from 1 to `max`. */
export const countOption =
  (max: number) =>
  (raw: string): number => {
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1 || value > max) {
      throw new InvalidArgumentError(`give a whole number from 1 to ${max}`);
    }
    return value;
  };

function jobStatusOption(raw: string): BackupJobStatus {
  const status = raw.toUpperCase() as BackupJobStatus;
  if (!JOB_STATUSES.includes(status)) throw new InvalidArgumentError(`give one of ${JOB_STATUSES.join(', ')}`);
  return status;
}

export function addJobsCommand(program: Command, context: CliContext): void {
  withJson(
    program
      .command('jobs')
      .summary('the newest backup jobs')
      .description('Lists backup jobs, newest first.')
      .option('--dataset <key>', "only this dataset's jobs")
      .option('--status <status>', `only jobs in this status (${JOB_STATUSES.join(', ')})`, jobStatusOption)
      .option('--first <n>', 'how many jobs (1-200)', countOption(200), 20),
  )
    .addHelpText(
      'after',
      manPage({
        description: "A member sees its own jobs; operators, auditors and admins see the tenant's.",
        examples: ['echelon jobs', 'echelon jobs --dataset photos --status PARTIAL --json'],
      }),
    )
    .action(
      guarded(
        context,
        async (options: { dataset?: string; status?: BackupJobStatus; first: number; json?: boolean }) => {
          const { backupJobs } = await request(
            await connectionOf(context),
            JOBS_QUERY,
            {
              first: options.first,
              filter: { datasetKey: options.dataset ?? null, status: options.status ?? null },
            },
            context.signal,
          );
          const jobs = backupJobs.edges.map((edge) => edge.node);
          if (options.json) {
            printJson(context.io, { totalCount: backupJobs.totalCount, jobs });
            return;
          }
          if (jobs.length === 0) {
            printLine(context.io, 'no backup jobs');
            return;
          }
          printLine(
            context.io,
            table([
              ['JOB', 'DATASET', 'VERSION', 'STATUS', 'COPIES', 'CREATED'],
              ...jobs.map((job) => [
                job.id,
                job.datasetKey,
                `v${job.version}`,
                job.status,
                `${verifiedCopies(job)}/${job.scheme.copies}`,
                formatTime(job.createdAt),
              ]),
            ]),
          );
          if (backupJobs.totalCount > jobs.length) {
            printLine(context.io, `(${jobs.length} of ${backupJobs.totalCount}; --first shows more)`);
          }
        },
      ),
    );
}

export function addDatasetsCommand(program: Command, context: CliContext): void {
  withJson(
    program
      .command('datasets')
      .summary('datasets, their versions and how well they are protected')
      .description('Lists the datasets you can see, with their latest version and copies verified of required.'),
  )
    .addHelpText(
      'after',
      manPage({
        description: "COPIES is the latest version's verified copies of those its scheme requires.",
        examples: ['echelon datasets', 'echelon datasets --json | jq ".[] | select(.compliance.isCompliant | not)"'],
      }),
    )
    .action(
      guarded(context, async (options: { json?: boolean }) => {
        const { datasets } = await request(await connectionOf(context), DATASETS_QUERY, {}, context.signal);
        if (options.json) {
          printJson(context.io, datasets);
          return;
        }
        if (datasets.length === 0) {
          printLine(context.io, 'no datasets');
          return;
        }
        printLine(
          context.io,
          table([
            ['DATASET', 'OWNER', 'VERSIONS', 'LATEST', 'SIZE', 'COPIES', 'PROTECTED', 'NEWEST VERIFIED COPY'],
            ...datasets.map((dataset) => {
              const latest = dataset.versions.reduce<(typeof dataset.versions)[number] | undefined>(
                (newest, version) => (newest === undefined || version.number > newest.number ? version : newest),
                undefined,
              );
              const { compliance } = dataset;
              return [
                dataset.key,
                dataset.identity.externalId,
                String(dataset.versions.length),
                latest ? `v${latest.number}` : '-',
                latest ? formatBytes(latest.sizeBytes) : '-',
                `${compliance.copiesAchieved}/${compliance.copiesRequired}`,
                compliance.isCompliant ? 'yes' : 'no',
                formatTime(compliance.newestVerifiedCopyAt),
              ];
            }),
          ]),
        );
      }),
    );
}

export function addHistoryCommand(program: Command, context: CliContext): void {
  withJson(
    program
      .command('history')
      .summary('the replica events of your backups, oldest first')
      .description('Lists replica events (every state change of every copy), oldest first.')
      .option('--dataset <key>', "only this dataset's events")
      .option('--job <id>', "only this job's events")
      .option('--since <time>', 'only events at or after this ISO 8601 time')
      .option('--first <n>', 'how many events (1-500)', countOption(500), 100),
  )
    .addHelpText(
      'after',
      manPage({
        description: 'The events are the audit trail of every copy: what happened, when, with which bytes.',
        examples: ['echelon history --dataset photos', 'echelon history --job "$JOB" --json'],
      }),
    )
    .action(
      guarded(
        context,
        async (options: { dataset?: string; job?: string; since?: string; first: number; json?: boolean }) => {
          const { replicaHistory } = await request(
            await connectionOf(context),
            HISTORY_QUERY,
            {
              first: options.first,
              filter: { datasetKey: options.dataset ?? null, jobId: options.job ?? null, since: options.since ?? null },
            },
            context.signal,
          );
          const events = replicaHistory.edges.map((edge) => edge.node);
          if (options.json) {
            printJson(context.io, { events, hasMore: replicaHistory.pageInfo.hasNextPage });
            return;
          }
          if (events.length === 0) {
            printLine(context.io, 'no events');
            return;
          }
          printLine(
            context.io,
            table([
              ['AT', 'JOB', 'COPY', 'STATUS', 'BYTES', 'MESSAGE'],
              ...events.map((event) => [
                formatTime(event.at),
                event.jobId,
                `${event.replica.order + 1} ${event.replica.role.toLowerCase()} on ${event.replica.storageSystem.name}`,
                event.status,
                formatBytes(event.bytesCopied),
                event.message ?? '',
              ]),
            ]),
          );
          if (replicaHistory.pageInfo.hasNextPage) printLine(context.io, '(more events: raise --first or use --since)');
        },
      ),
    );
}
