import { describe, expect, it } from 'vitest';
import {
  MAX_DELAY_SECONDS,
  validateAssignment,
  validateExternalId,
  validateFilesystemConfig,
  validateBucketName,
  validatePolicyTemplate,
  validateS3Config,
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

describe('S3 storage input', () => {
  const valid = {
    endpoint: 'https://rgw.example.com:7480/',
    region: 'default',
    accessKeyId: 'AKIAEXAMPLE',
    secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  };

  it('accepts a config, normalises the endpoint and defaults forcePathStyle to false', () => {
    expect(validateS3Config(valid)).toEqual({
      endpoint: 'https://rgw.example.com:7480',
      region: 'default',
      accessKeyId: 'AKIAEXAMPLE',
      secretAccessKey: valid.secretAccessKey,
      forcePathStyle: false,
    });
    expect(validateS3Config({ ...valid, endpoint: 'http://127.0.0.1:9000', forcePathStyle: true })).toMatchObject({
      endpoint: 'http://127.0.0.1:9000',
      forcePathStyle: true,
    });
  });

  it('names the field that is wrong and never repeats the secret', () => {
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ endpoint: 'ftp://host' }, 'config.endpoint', /http:\/\/ or https:\/\//],
      [{ endpoint: 'not a url' }, 'config.endpoint', /is not a URL/],
      [{ endpoint: 'https://user:pw@host' }, 'config.endpoint', /must not carry credentials/],
      [{ endpoint: 'https://host/bucket' }, 'config.endpoint', /without a path/],
      [{ endpoint: 42 }, 'config.endpoint', /URL of the S3 API/],
      [{ region: '' }, 'config.region', /config.region/],
      [{ region: 'us east' }, 'config.region', /config.region/],
      [{ accessKeyId: undefined }, 'config.accessKeyId', /config.accessKeyId/],
      [{ secretAccessKey: 'has a space' }, 'config.secretAccessKey', /config.secretAccessKey/],
      [{ secretAccessKey: '' }, 'config.secretAccessKey', /config.secretAccessKey/],
      [{ forcePathStyle: 'yes' }, 'config.forcePathStyle', /true or false/],
      [{ bucket: 'x' }, 'config', /unknown S3 config keys: bucket; accepted: endpoint, region/],
    ];
    for (const [change, field, message] of cases) {
      const error = refusal(() => validateS3Config({ ...valid, ...change }));
      expect(error.code, JSON.stringify(change)).toBe('BAD_USER_INPUT');
      expect(error.details.field, JSON.stringify(change)).toBe(field);
      expect(error.message).toMatch(message);
      expect(error.message).not.toContain('has a space');
    }
    for (const config of [null, 'x', [], 7])
      expect(refusal(() => validateS3Config(config)).details.field).toBe('config');
  });

  it('holds S3 backup spaces to the bucket naming rules', () => {
    for (const name of ['backups', 'my.bucket-01', 'a1b']) expect(validateBucketName(name)).toBe(name);
    for (const name of [
      'ab',
      'x'.repeat(64),
      'Upper',
      'under_score',
      '-start',
      'end-',
      'a..b',
      'a.-b',
      '192.168.0.1',
      'xn--punycode',
      'name-s3alias',
    ]) {
      expect(
        refusal(() => validateBucketName(name)),
        name,
      ).toMatchObject({
        code: 'BAD_USER_INPUT',
        details: { field: 'spaces' },
      });
    }
    expect(validateSpaces([{ name: 'backups', capacityBytes: 10 }], 'S3')).toEqual([
      { name: 'backups', capacityBytes: 10 },
    ]);
    expect(() => validateSpaces([{ name: 'Shelf_A', capacityBytes: 10 }], 'S3')).toThrow(/bucket name "Shelf_A"/);
    // FILESYSTEM spaces keep their own, wider rules.
    expect(validateSpaces([{ name: 'Shelf_A', capacityBytes: 10 }])).toHaveLength(1);
  });
});
