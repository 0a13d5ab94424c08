import { EchelonApiError } from '@echelon/client';
import { ERROR_CODES, type ErrorCode, isDomainError } from '@echelon/domain';

/**
 * The exit status of every command, documented in `echelon --help` and the README. A script can tell a refusal it
 * can fix (input, login, permissions) from a backup that is not yet protected or a restore that did not verify.
 */
export const EXIT = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  UNAUTHENTICATED: 3,
  FORBIDDEN: 4,
  NOT_FOUND: 5,
  CONFLICT: 6,
  NO_POLICY: 7,
  INSUFFICIENT_CAPACITY: 8,
  STORAGE_UNAVAILABLE: 9,
  UNREACHABLE: 10,
  NOT_PROTECTED: 11,
  NOT_VERIFIED: 12,
  INTERRUPTED: 130,
} as const;

/** Codes of the client's own refusals, beside the API's contract codes. */
export type ClientErrorCode =
  | 'USAGE'
  | 'NOT_LOGGED_IN'
  | 'UNREACHABLE'
  | 'NOT_PROTECTED'
  | 'NOT_VERIFIED'
  | 'INTERRUPTED'
  | 'INTERNAL';

export type CliErrorCode = ErrorCode | ClientErrorCode;

/** A failure of a command: its code decides the exit status and the advice printed under the message. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    readonly code: CliErrorCode,
    message: string,
    /** Facts a script may want (a job id, what was sent before an interrupt), printed with --json. */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

interface Explanation {
  exitCode: number;
  /** What the user can do about it, in words. */
  advice: string;
}

/** The exit status and advice for each code; exhaustive, so a new contract code fails the typecheck here. */
export function explain(code: CliErrorCode): Explanation {
  switch (code) {
    case 'BAD_USER_INPUT':
      return { exitCode: EXIT.USAGE, advice: 'The API refused the input as it is: correct it and run again.' };
    case 'USAGE':
      return { exitCode: EXIT.USAGE, advice: 'See `echelon <command> --help` for what the command takes.' };
    case 'UNAUTHENTICATED':
      return {
        exitCode: EXIT.UNAUTHENTICATED,
        advice: 'The API does not accept this key (wrong, revoked or expired): run `echelon login` with a valid one.',
      };
    case 'NOT_LOGGED_IN':
      return {
        exitCode: EXIT.UNAUTHENTICATED,
        advice: 'Run `echelon login --api-url <url>` first, or set ECHELON_API_URL and ECHELON_API_KEY.',
      };
    case 'FORBIDDEN':
      return {
        exitCode: EXIT.FORBIDDEN,
        advice: "This key's roles do not allow it: ask a tenant admin for a role that does, or use another key.",
      };
    case 'NOT_FOUND':
      return {
        exitCode: EXIT.NOT_FOUND,
        advice: 'Nothing by that name is visible to this key: see `echelon datasets` and `echelon jobs`.',
      };
    case 'CONFLICT':
      return { exitCode: EXIT.CONFLICT, advice: 'The request clashes with the current state: see the message.' };
    case 'NO_POLICY':
      return {
        exitCode: EXIT.NO_POLICY,
        advice: 'No policy template is assigned to you for this data class: ask a tenant admin to assign one.',
      };
    case 'INSUFFICIENT_CAPACITY':
      return {
        exitCode: EXIT.INSUFFICIENT_CAPACITY,
        advice: 'The storage systems of your scheme cannot hold the data: free space or add capacity, then retry.',
      };
    case 'STORAGE_UNAVAILABLE':
      return {
        exitCode: EXIT.STORAGE_UNAVAILABLE,
        advice: 'A storage system could not be reached or refused the write: retry once it is healthy again.',
      };
    case 'UNREACHABLE':
      return {
        exitCode: EXIT.UNREACHABLE,
        advice: 'Check the API URL (`echelon login --api-url`) and that the API is running.',
      };
    case 'NOT_PROTECTED':
      return {
        exitCode: EXIT.NOT_PROTECTED,
        advice: 'Fewer copies than the scheme requires are verified: see `echelon status <job>`.',
      };
    case 'NOT_VERIFIED':
      return {
        exitCode: EXIT.NOT_VERIFIED,
        advice: 'What was received does not match the backup, so it was not kept: run the restore again.',
      };
    case 'INTERRUPTED':
      return {
        exitCode: EXIT.INTERRUPTED,
        advice: 'Run the same command again to go on: chunks the API confirmed are not sent again.',
      };
    case 'INTERNAL':
      return { exitCode: EXIT.FAILURE, advice: 'An unexpected failure: the API logged the details if it was there.' };
  }
}

const CONTRACT_CODES: ReadonlySet<string> = new Set(ERROR_CODES);
const isContractCode = (code: string): code is ErrorCode => CONTRACT_CODES.has(code);

/** Any failure as a CliError: the API's typed refusals keep their code, a dead connection is UNREACHABLE. */
export function toCliError(error: unknown): CliError {
  if (error instanceof CliError) return error;
  // The domain's own checks run here too (a dataset key is checked before anything is read or sent).
  if (isDomainError(error)) return new CliError(error.code, error.message);
  if (error instanceof EchelonApiError) {
    return new CliError(isContractCode(error.code) ? error.code : 'INTERNAL', error.message);
  }
  if (error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError')) {
    return new CliError('INTERRUPTED', 'interrupted');
  }
  if (error instanceof TypeError && error.message === 'fetch failed') {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return new CliError('UNREACHABLE', `the API cannot be reached${cause}`);
  }
  return new CliError('INTERNAL', error instanceof Error ? error.message : String(error));
}
