import { Command, CommanderError } from 'commander';
import { type CliIo, createCliContext } from './cli-context.js';
import { EXIT } from './cli-errors.js';
import { addBackupCommand } from './commands/backup-command.js';
import { addDatasetsCommand, addHistoryCommand, addJobsCommand } from './commands/list-commands.js';
import { addLoginCommand } from './commands/login-command.js';
import { addPreviewCommand } from './commands/preview-command.js';
import { addRestoreCommand } from './commands/restore-command.js';
import { addStatusCommand, addWatchCommand } from './commands/watch-command.js';
import { EXIT_STATUS_TEXT } from './help-text.js';

/**
 * Runs one `echelon` command line and returns its exit status. The first Ctrl-C (or SIGTERM) aborts the command's
 * requests and lets it say where it stopped; a second one ends the process at once.
 */
export async function runCli(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  io: CliIo,
  signals: { on: (signal: 'SIGINT' | 'SIGTERM', listener: () => void) => void; exit: (code: number) => never },
): Promise<number> {
  const interrupt = new AbortController();
  const onSignal = () => {
    if (interrupt.signal.aborted) signals.exit(EXIT.INTERRUPTED);
    interrupt.abort();
  };
  signals.on('SIGINT', onSignal);
  signals.on('SIGTERM', onSignal);
  const context = createCliContext(io, env, interrupt.signal);

  const program = new Command('echelon')
    .description(
      'The terminal client of Echelon: back up files and trees (only what the API lacks is sent), follow every copy live, restore verified.',
    )
    .version('0.1.0', '-V', 'print the version of echelon')
    // Options after a command are that command's (restore --version N is not echelon's version).
    .enablePositionalOptions()
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .exitOverride()
    .addHelpText('after', `\n${EXIT_STATUS_TEXT}\n\nRun \`echelon <command> --help\` for a command's manual.`);
  addLoginCommand(program, context);
  addBackupCommand(program, context);
  addPreviewCommand(program, context);
  addJobsCommand(program, context);
  addStatusCommand(program, context);
  addWatchCommand(program, context);
  addDatasetsCommand(program, context);
  addHistoryCommand(program, context);
  addRestoreCommand(program, context);

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    throw error;
  }
  return context.exitCode;
}
