import type { Command } from 'commander';
import type { CliContext } from './cli-context.js';
import { type CliError, explain, toCliError } from './cli-errors.js';
import { printJson } from './output.js';

/** Every command takes --json: its answer (or its error) as one JSON document on stdout. */
export const withJson = (command: Command): Command =>
  command.option('--json', 'print the answer as one JSON document on stdout, for scripts');

/** An error as the user reads it: the message, then what to do; or as JSON with its code and exit status. */
export function reportError(context: CliContext, error: CliError, isJson: boolean): void {
  const { exitCode, advice } = explain(error.code);
  context.exitCode = exitCode;
  if (isJson) {
    printJson(context.io, { error: { code: error.code, message: error.message, exitCode }, ...error.details });
    return;
  }
  context.io.stderr.write(`echelon: ${error.message}\n  ${advice}\n`);
}

/**
 * A command's action with the shared ending: any failure becomes its message, advice and exit status. Commander
 * passes the command itself last, which says whether --json was given.
 */
export function guarded<Args extends unknown[]>(
  context: CliContext,
  handler: (...args: Args) => Promise<void>,
): (...args: Args) => Promise<void> {
  return async (...args: Args) => {
    const command = args.at(-1) as Command;
    try {
      await handler(...args);
    } catch (error) {
      reportError(context, toCliError(error), Boolean(command.opts().json));
    }
  };
}
