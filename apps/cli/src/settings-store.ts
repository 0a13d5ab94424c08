import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CliError } from './cli-errors.js';

/** What `echelon login` keeps: where the API is and the key to call it with. */
export interface Settings {
  apiUrl: string;
  apiKey: string;
}

const SETTINGS_FILE = 'config.json';

/**
 * The directory the settings live in: ECHELON_CONFIG_DIR when set (tests, several accounts), else
 * `$XDG_CONFIG_HOME/echelon`, else `~/.config/echelon`.
 */
export function configDirOf(env: Readonly<Record<string, string | undefined>>): string {
  if (env.ECHELON_CONFIG_DIR) return path.resolve(env.ECHELON_CONFIG_DIR);
  const base = env.XDG_CONFIG_HOME ? path.resolve(env.XDG_CONFIG_HOME) : path.join(os.homedir(), '.config');
  return path.join(base, 'echelon');
}

export const settingsFileIn = (configDir: string): string => path.join(configDir, SETTINGS_FILE);

/**
 * Writes the settings readable by the user alone (file 0600, directory 0700), through a temporary file so a crash
 * never leaves half a file, and so the key is never readable by others even for a moment.
 */
export async function saveSettings(configDir: string, settings: Settings): Promise<string> {
  await mkdir(configDir, { recursive: true, mode: 0o700 });
  const file = settingsFileIn(configDir);
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(settings, null, 2)}\n`, { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, file);
  return file;
}

/** The saved settings, or undefined when there are none; a damaged file is a clear error, not a guess. */
export async function loadSettings(configDir: string): Promise<Settings | undefined> {
  const file = settingsFileIn(configDir);
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (text === undefined) return undefined;
  try {
    const parsed = JSON.parse(text) as Partial<Settings>;
    if (typeof parsed.apiUrl === 'string' && typeof parsed.apiKey === 'string') {
      return { apiUrl: parsed.apiUrl, apiKey: parsed.apiKey };
    }
  } catch {
    // Falls through to the error below.
  }
  throw new CliError('NOT_LOGGED_IN', `${file} is not a settings file of echelon: run \`echelon login\` again`);
}
