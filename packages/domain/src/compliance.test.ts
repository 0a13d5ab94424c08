import { describe, expect, it } from 'vitest';
import { datasetCompliance } from './compliance.js';

const now = new Date('2026-11-28T12:00:00Z');
const at = (iso: string) => new Date(iso);

describe('datasetCompliance', () => {
  it('compares the latest version with its scheme and lists every version short of its copies', () => {
    const result = datasetCompliance(
      [
        { version: 2, copiesRequired: 3, copiesAchieved: 2, newestVerifiedAt: at('2026-11-28T11:59:00Z') },
        { version: 1, copiesRequired: 3, copiesAchieved: 3, newestVerifiedAt: at('2026-11-27T12:00:00Z') },
        { version: 3, copiesRequired: 3, copiesAchieved: 1, newestVerifiedAt: at('2026-11-28T11:00:00Z') },
      ],
      now,
    );
    expect(result).toEqual({
      latestVersion: 3,
      copiesRequired: 3,
      copiesAchieved: 1,
      newestVerifiedCopyAt: at('2026-11-28T11:59:00Z'),
      newestVerifiedCopyAgeSeconds: 60,
      versionsNotFullyProtected: [2, 3],
      isCompliant: false,
    });
  });

  it('is compliant only when every version has its copies, and says nothing about a dataset with none', () => {
    expect(
      datasetCompliance([{ version: 1, copiesRequired: 2, copiesAchieved: 2, newestVerifiedAt: now }], now).isCompliant,
    ).toBe(true);
    expect(datasetCompliance([], now)).toMatchObject({
      latestVersion: null,
      isCompliant: false,
      newestVerifiedCopyAgeSeconds: null,
    });
  });
});
