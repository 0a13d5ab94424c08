import { EXIT } from './cli-errors.js';

/** What each exit status means, for `--help` (the README's table says the same). */
const EXIT_MEANINGS: readonly [number, string][] = [
  [EXIT.OK, 'done (a backup: every copy of its scheme verified; a restore: every file written and verified)'],
  [EXIT.FAILURE, 'an unexpected failure'],
  [EXIT.USAGE, 'bad arguments, or input the API refused (BAD_USER_INPUT)'],
  [EXIT.UNAUTHENTICATED, 'not logged in, or the key is not accepted (UNAUTHENTICATED)'],
  [EXIT.FORBIDDEN, "the key's roles do not allow it (FORBIDDEN)"],
  [EXIT.NOT_FOUND, 'no such dataset, job, version or path (NOT_FOUND)'],
  [EXIT.CONFLICT, 'clashes with the current state, or a restore would overwrite files (CONFLICT)'],
  [EXIT.NO_POLICY, 'no policy template applies (NO_POLICY)'],
  [EXIT.INSUFFICIENT_CAPACITY, 'the storage cannot hold the data (INSUFFICIENT_CAPACITY)'],
  [EXIT.STORAGE_UNAVAILABLE, 'a storage system is unavailable (STORAGE_UNAVAILABLE)'],
  [EXIT.UNREACHABLE, 'the API cannot be reached'],
  [EXIT.NOT_PROTECTED, 'the backup ended with fewer verified copies than its scheme requires'],
  [EXIT.NOT_VERIFIED, 'restored data did not verify against the backup and was not kept'],
  [EXIT.INTERRUPTED, 'interrupted (Ctrl-C); running the command again goes on where it stopped'],
];

const indent = (text: string) =>
  text
    .split('\n')
    .map((line) => (line === '' ? '' : `  ${line}`))
    .join('\n');

export const EXIT_STATUS_TEXT = `EXIT STATUS\n${indent(EXIT_MEANINGS.map(([code, meaning]) => `${String(code).padEnd(4)} ${meaning}`).join('\n'))}`;

const ENVIRONMENT_TEXT = `ENVIRONMENT
  ECHELON_API_URL, ECHELON_API_KEY   use this API and key instead of the saved login
  ECHELON_CONFIG_DIR                 where the login is kept (default $XDG_CONFIG_HOME/echelon or ~/.config/echelon)`;

/** The sections after a command's options, as a manual page has them. */
export function manPage(sections: { description: string; examples: string[] }): string {
  return [
    '',
    `DESCRIPTION\n${indent(sections.description)}`,
    `EXAMPLES\n${indent(sections.examples.join('\n'))}`,
    ENVIRONMENT_TEXT,
    EXIT_STATUS_TEXT,
  ].join('\n\n');
}
