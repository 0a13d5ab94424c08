import { DomainError } from './errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Every id this API issues is a UUID; anything else can match nothing. */
export const isUuid = (value: string): boolean => UUID.test(value);

/**
 * An id the caller passes to find something: malformed ids are NOT_FOUND, like ids of another tenant, so the
 * answer never tells them apart and the database never parses garbage.
 */
export function requireKnownIdShape(value: string, what: string): string {
  if (!isUuid(value)) throw new DomainError('NOT_FOUND', `${what} ${value.slice(0, 60)} does not exist in this tenant`);
  return value;
}

/** An id used as a filter: malformed is BAD_USER_INPUT (it says which field). */
export function requireIdFilter(value: string | null | undefined, field: string): string | null {
  if (value === null || value === undefined) return null;
  if (!isUuid(value))
    throw new DomainError('BAD_USER_INPUT', `${field} "${value.slice(0, 60)}" is not an id this API issued`, { field });
  return value;
}

const DATASET_KEY = /^[A-Za-z0-9][A-Za-z0-9._\-/]{0,255}$/;

/** Dataset keys: 1–256 letters, digits, ".", "_", "-" in "/"-separated segments, none empty, "." or "..". */
export function validateDatasetKey(key: string, field = 'datasetKey'): string {
  if (
    !DATASET_KEY.test(key) ||
    key.split('/').some((segment) => segment === '' || segment === '..' || segment === '.')
  ) {
    throw new DomainError(
      'BAD_USER_INPUT',
      `${field} "${key.slice(0, 80)}" is not valid: use 1–256 letters, digits, ".", "_", "-" and "/"-separated segments, starting with a letter or digit`,
      { field },
    );
  }
  return key;
}
