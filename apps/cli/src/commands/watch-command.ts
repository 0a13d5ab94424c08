import type { Command } from 'commander';
import { type CliContext, connectionOf } from '../cli-context.js';
import { guarded, withJson } from '../command-action.js';
import { manPage } from '../help-text.js';
import { followToEnd, readJob, unprotectedError } from '../job-follower.js';
import { describeJob } from '../job-view.js';
import { printJson, printLine } from '../output.js';

export function addStatusCommand(program: Command, context: CliContext): void {
  withJson(
    program
      .command('status')
      .summary("a backup job's state and every copy's")
      .description('Shows a backup job as it is now: its status, scheme and each copy.')
      .argument('<job>', 'the backup job id'),
  )
    .addHelpText(
      'after',
      manPage({
        description: `Reads the job once. Use \`echelon watch JOB\` to follow it until it ends.`,
        examples: ['echelon status 0b4c3c2e-8f7a-4d2e-9a51-2f7e1c9d3b10', 'echelon status "$JOB" --json | jq .status'],
      }),
    )
    .action(
      guarded(context, async (jobId: string, options: { json?: boolean }) => {
        const job = await readJob(await connectionOf(context), jobId, context.signal);
        if (options.json) printJson(context.io, job);
        else printLine(context.io, describeJob(job));
      }),
    );
}

export function addWatchCommand(program: Command, context: CliContext): void {
  withJson(
    program
      .command('watch')
      .summary('follow a backup job live until it ends')
      .description('Follows a backup job live over graphql-ws, one bar per copy, until the job ends.')
      .argument('<job>', 'the backup job id'),
  )
    .addHelpText(
      'after',
      manPage({
        description: `Replays the job's events from the first, then receives them as they happen. Exits 0 when every
copy of the scheme is verified, 11 when the job ended otherwise. Ctrl-C stops watching, not the job.`,
        examples: ['echelon watch 0b4c3c2e-8f7a-4d2e-9a51-2f7e1c9d3b10'],
      }),
    )
    .action(
      guarded(context, async (jobId: string, options: { json?: boolean }) => {
        const job = await followToEnd(context, await connectionOf(context), jobId, Boolean(options.json));
        if (options.json && job.status === 'COMPLETED') printJson(context.io, job);
        else if (!options.json) printLine(context.io, describeJob(job));
        if (job.status !== 'COMPLETED') throw unprotectedError(job);
      }),
    );
}
