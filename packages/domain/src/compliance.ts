/** What one backup job achieved for one dataset version. */
export interface VersionProtection {
  version: number;
  /** Copies the scheme asked for (primary included). */
  copiesRequired: number;
  /** Verified (COMPLETED) copies of that version. */
  copiesAchieved: number;
  /** When the newest verified copy of that version was completed. */
  newestVerifiedAt: Date | null;
}

export interface DatasetCompliance {
  latestVersion: number | null;
  copiesRequired: number;
  copiesAchieved: number;
  newestVerifiedCopyAt: Date | null;
  newestVerifiedCopyAgeSeconds: number | null;
  /** Versions with fewer verified copies than their scheme required, oldest first. */
  versionsNotFullyProtected: number[];
  isCompliant: boolean;
}

/**
 * An auditor's view of one dataset: copies required by the latest version's scheme against copies achieved,
 * the age of the newest verified copy of any version, and every version still short of its copies.
 */
export function datasetCompliance(versions: readonly VersionProtection[], now: Date): DatasetCompliance {
  const ordered = [...versions].sort((a, b) => a.version - b.version);
  const latest = ordered.at(-1);
  let newest: Date | null = null;
  for (const version of ordered) {
    if (version.newestVerifiedAt && (newest === null || version.newestVerifiedAt > newest))
      newest = version.newestVerifiedAt;
  }
  const short = ordered
    .filter((version) => version.copiesAchieved < version.copiesRequired)
    .map((version) => version.version);
  return {
    latestVersion: latest?.version ?? null,
    copiesRequired: latest?.copiesRequired ?? 0,
    copiesAchieved: latest?.copiesAchieved ?? 0,
    newestVerifiedCopyAt: newest,
    newestVerifiedCopyAgeSeconds:
      newest === null ? null : Math.max(0, Math.floor((now.getTime() - newest.getTime()) / 1000)),
    versionsNotFullyProtected: short,
    isCompliant: latest !== undefined && short.length === 0,
  };
}
