import type { Connection } from '@echelon/client';
import { CliError } from './cli-errors.js';
import { configDirOf, loadSettings } from './settings-store.js';

/** Where a command writes, and whether a person is watching (progress bars) or a script (plain lines). */
export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
  /** stderr is a terminal: draw bars and redraw them. */
  isInteractive: boolean;
}

/** Everything a command needs from the process, handed in once by the binary (the only reader of process.env). */
export interface CliContext {
  io: CliIo;
  env: Readonly<Record<string, string | undefined>>;
  configDir: string;
  /** Aborted on Ctrl-C (SIGINT) or SIGTERM. */
  signal: AbortSignal;
  /** The process's exit status once the command is done (see EXIT). */
  exitCode: number;
}

export function createCliContext(
  io: CliIo,
  env: Readonly<Record<string, string | undefined>>,
  signal: AbortSignal,
): CliContext {
  return { io, env, configDir: configDirOf(env), signal, exitCode: 0 };
}

/**
 * The API to call and the key to call it with: ECHELON_API_URL and ECHELON_API_KEY when set (CI jobs), otherwise
 * what `echelon login` saved.
 */
export async function connectionOf(context: CliContext): Promise<Connection> {
  const saved = await loadSettings(context.configDir);
  const apiUrl = context.env.ECHELON_API_URL || saved?.apiUrl;
  const apiKey = context.env.ECHELON_API_KEY || saved?.apiKey;
  if (!apiUrl || !apiKey) throw new CliError('NOT_LOGGED_IN', 'not logged in: no API URL and key are configured');
  return { apiUrl, apiKey };
}
