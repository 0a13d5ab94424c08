import { describe, expect, it } from 'vitest';
import { badInput, DomainError, ERROR_CODES, isDomainError, notFound } from './errors.js';

describe('DomainError', () => {
  it('carries a code, a message and details, and is an Error', () => {
    const error = new DomainError('CONFLICT', 'a replica cannot go from COMPLETED to COPYING', { from: 'COMPLETED' });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('DomainError');
    expect(error.code).toBe('CONFLICT');
    expect(error.message).toBe('a replica cannot go from COMPLETED to COPYING');
    expect(error.details).toEqual({ from: 'COMPLETED' });
  });

  it('defaults details to an empty object', () => {
    expect(new DomainError('FORBIDDEN', 'no').details).toEqual({});
  });

  it('isDomainError tells domain refusals from other errors', () => {
    expect(isDomainError(new DomainError('NO_POLICY', 'x'))).toBe(true);
    expect(isDomainError(new Error('x'))).toBe(false);
    expect(isDomainError({ code: 'NO_POLICY', message: 'x' })).toBe(false);
    expect(isDomainError(undefined)).toBe(false);
  });

  it('notFound names what is missing and says it is scoped to the tenant', () => {
    const error = notFound('storage system', 'ss-1');
    expect(error.code).toBe('NOT_FOUND');
    expect(error.message).toBe('storage system ss-1 does not exist in this tenant');
    expect(error.details).toEqual({ what: 'storage system', id: 'ss-1' });
  });

  it('badInput is BAD_USER_INPUT with the given details', () => {
    const error = badInput('copies must be at least 1', { copies: 0 });
    expect(error.code).toBe('BAD_USER_INPUT');
    expect(error.details).toEqual({ copies: 0 });
  });

  it('exposes the contract’s error codes, each once', () => {
    expect([...ERROR_CODES].sort()).toEqual(
      [
        'BAD_USER_INPUT',
        'CONFLICT',
        'FORBIDDEN',
        'INSUFFICIENT_CAPACITY',
        'NOT_FOUND',
        'NO_POLICY',
        'STORAGE_UNAVAILABLE',
        'UNAUTHENTICATED',
      ].sort(),
    );
  });
});
