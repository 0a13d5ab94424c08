import { describe, expect, it } from 'vitest';
import {
  MAX_DELAY_SECONDS,
  validateAssignment,
  validateExternalId,
  validateFilesystemConfig,
  validatePolicyTemplate,
  validateSlug,
  validateSpaces,
} from './validation.js';

const known = new Set(['p', 'a', 'b']);
const template = {
  name: 'gold',
  copies: 3,
  primaryStorageSystemId: 'p',
  candidateStorageSystemIds: ['a', 'b'],
  delaySeconds: 60,
  ordering: 'CAPACITY' as const,
};
const refusal = (work: () => unknown) => {
  try {
    work();
  } catch (error) {
    return error as { code: string; message: string; details: { field?: string } };
  }
  throw new Error('expected a refusal');
};

describe('policy template validation', () => {
  it('accepts a valid template and defaults minCopies to 1', () => {
    expect(validatePolicyTemplate(template, known)).toMatchObject({ copies: 3, minCopies: 1, dataClass: null });
  });

  it('says what is wrong, field by field', () => {
    expect(refusal(() => validatePolicyTemplate({ ...template, copies: 4 }, known))).toMatchObject({
      code: 'BAD_USER_INPUT',
      message: 'copies must be between 1 and 3 (the primary plus 2 candidates), not 4',
      details: { field: 'copies' },
    });
    expect(refusal(() => validatePolicyTemplate({ ...template, copies: 0 }, known)).details.field).toBe('copies');
    expect(
      refusal(() => validatePolicyTemplate({ ...template, candidateStorageSystemIds: ['p', 'a'] }, known)).message,
    ).toMatch(/cannot also be a candidate/);
    expect(
      refusal(() => validatePolicyTemplate({ ...template, candidateStorageSystemIds: ['a', 'a'] }, known)).message,
    ).toMatch(/listed twice/);
    expect(
      refusal(() => validatePolicyTemplate({ ...template, delaySeconds: MAX_DELAY_SECONDS + 1 }, known)).details.field,
    ).toBe('delaySeconds');
    expect(validatePolicyTemplate({ ...template, delaySeconds: MAX_DELAY_SECONDS }, known).delaySeconds).toBe(
      MAX_DELAY_SECONDS,
    );
    expect(refusal(() => validatePolicyTemplate({ ...template, delaySeconds: 1.5 }, known)).details.field).toBe(
      'delaySeconds',
    );
    expect(refusal(() => validatePolicyTemplate({ ...template, minCopies: 4 }, known)).details.field).toBe('minCopies');
    expect(refusal(() => validatePolicyTemplate({ ...template, name: '  ' }, known)).details.field).toBe('name');
    expect(refusal(() => validatePolicyTemplate({ ...template, primaryStorageSystemId: 'zzz' }, known))).toMatchObject({
      code: 'NOT_FOUND',
    });
  });
});

describe('other administrative input', () => {
  it('checks slugs, external ids, spaces and filesystem roots', () => {
    expect(validateSlug('acme-corp')).toBe('acme-corp');
    for (const slug of ['A', 'acme corp', '-x', "'; DROP TABLE tenants;--"])
      expect(() => validateSlug(slug)).toThrow(/slug/);
    expect(validateExternalId('emp.42@corp')).toBe('emp.42@corp');
    expect(() => validateExternalId('x'.repeat(201))).toThrow(/externalId/);
    expect(() => validateSpaces([])).toThrow(/at least one/);
    expect(() => validateSpaces([{ name: '../etc', capacityBytes: 1 }])).toThrow(/backup space name/);
    expect(() =>
      validateSpaces([
        { name: 'a', capacityBytes: 1 },
        { name: 'a', capacityBytes: 1 },
      ]),
    ).toThrow(/twice/);
    expect(() => validateSpaces([{ name: 'a', capacityBytes: -1 }])).toThrow(/at least 1 byte/);
    expect(validateFilesystemConfig({ root: '/srv//backups/./a/' })).toEqual({ root: '/srv/backups/a' });
    for (const config of [
      { root: 'rel' },
      { root: '/a/../b' },
      { root: '/' },
      { root: '/x', extra: 1 },
      null,
      'x',
      [],
    ]) {
      expect(() => validateFilesystemConfig(config)).toThrow();
    }
  });

  it('needs exactly one target for an assignment', () => {
    expect(validateAssignment({ templateId: 't', group: 'finance' })).toEqual({
      identityId: null,
      group: 'finance',
      tenantDefault: false,
      dataClass: null,
    });
    expect(() => validateAssignment({ templateId: 't' })).toThrow(/exactly one/);
    expect(() => validateAssignment({ templateId: 't', identityId: 'i', tenantDefault: true })).toThrow(/exactly one/);
    expect(() => validateAssignment({ templateId: 't', tenantDefault: false })).toThrow(/exactly one/);
  });
});
