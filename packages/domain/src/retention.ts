import { DomainError } from './errors.js';

/**
 * Retention rules of a policy template version. A version is kept when any rule keeps it (the rules add up, as
 * restic's `forget` flags do); a held version and the newest version are always kept, so no rule set can leave a
 * dataset with nothing to restore. Calendar buckets are UTC days, ISO 8601 weeks (Monday first) and months, so the
 * answer does not depend on the server's time zone.
 */
export interface RetentionRules {
  /** Keep the newest N versions. */
  keepLast: number | null;
  /** Keep every version created within the last D days. */
  keepWithinDays: number | null;
  /** Grandfather-father-son: keep the newest version of each of the last N days / weeks / months that have one. */
  keepDaily: number | null;
  keepWeekly: number | null;
  keepMonthly: number | null;
}

export type RetentionReason = 'NO_RULES' | 'LAST' | 'WITHIN' | 'DAILY' | 'WEEKLY' | 'MONTHLY' | 'NEWEST' | 'HELD';

export interface RetainedVersion {
  id: string;
  createdAt: Date;
  isHeld: boolean;
}

export interface RetentionDecision<V extends RetainedVersion> {
  kept: { version: V; reasons: RetentionReason[] }[];
  dropped: V[];
}

const RULE_LIMITS: Record<keyof RetentionRules, number> = {
  keepLast: 100_000,
  keepWithinDays: 36_500,
  keepDaily: 36_500,
  keepWeekly: 5_200,
  keepMonthly: 1_200,
};

/**
 * Checks rules before they are saved: each a whole number from 0 to its limit, and at least one above 0 (rules that
 * are all 0 contradict keeping any version). Null rules (none given at all) mean keep every version.
 */
export function validateRetentionRules(input: Partial<RetentionRules> | null | undefined): RetentionRules | null {
  if (input === null || input === undefined) return null;
  const rules: RetentionRules = {
    keepLast: input.keepLast ?? null,
    keepWithinDays: input.keepWithinDays ?? null,
    keepDaily: input.keepDaily ?? null,
    keepWeekly: input.keepWeekly ?? null,
    keepMonthly: input.keepMonthly ?? null,
  };
  const given = (Object.keys(RULE_LIMITS) as (keyof RetentionRules)[]).filter((key) => rules[key] !== null);
  if (given.length === 0) return null;
  for (const key of given) {
    const value = rules[key] as number;
    const limit = RULE_LIMITS[key];
    if (!Number.isInteger(value) || value < 0 || value > limit) {
      throw new DomainError(
        'BAD_USER_INPUT',
        `retention ${key} must be a whole number from 0 to ${limit}, not ${value}`,
        {
          field: key,
        },
      );
    }
  }
  if (given.every((key) => rules[key] === 0)) {
    throw new DomainError(
      'BAD_USER_INPUT',
      `retention rules ${given.join(', ')} are all 0, which contradicts keeping any version: set at least one above 0, or leave them all out to keep every version`,
      { field: given[0] },
    );
  }
  return rules;
}

const DAY_MS = 86_400_000;

const dayKey = (at: Date) => at.toISOString().slice(0, 10);
const monthKey = (at: Date) => at.toISOString().slice(0, 7);

/** The ISO 8601 week of a UTC instant, as `<week-year>-W<week>`: Dec 31 can be week 1 of the next year. */
export function isoWeekKey(at: Date): string {
  const day = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));
  const weekday = day.getUTCDay() === 0 ? 7 : day.getUTCDay();
  day.setUTCDate(day.getUTCDate() + 4 - weekday); // the Thursday of this week decides its year
  const yearStart = Date.UTC(day.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((day.getTime() - yearStart) / DAY_MS + 1) / 7);
  return `${day.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}

/**
 * Which versions the rules keep and which they drop, at `now`. Versions may come in any order; ties on createdAt
 * are broken by id so the answer is total. Null rules keep everything.
 */
export function evaluateRetention<V extends RetainedVersion>(
  versions: readonly V[],
  rules: RetentionRules | null,
  now: Date,
): RetentionDecision<V> {
  const newestFirst = [...versions].sort(
    (a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0),
  );
  const reasons = new Map<string, RetentionReason[]>(newestFirst.map((version) => [version.id, []]));
  const keep = (version: V, reason: RetentionReason) => reasons.get(version.id)?.push(reason);
  if (rules === null) {
    for (const version of newestFirst) keep(version, 'NO_RULES');
  } else {
    for (const version of newestFirst.slice(0, rules.keepLast ?? 0)) keep(version, 'LAST');
    if (rules.keepWithinDays !== null) {
      const since = now.getTime() - rules.keepWithinDays * DAY_MS;
      for (const version of newestFirst) if (version.createdAt.getTime() >= since) keep(version, 'WITHIN');
    }
    const buckets: [number | null, (at: Date) => string, RetentionReason][] = [
      [rules.keepDaily, dayKey, 'DAILY'],
      [rules.keepWeekly, isoWeekKey, 'WEEKLY'],
      [rules.keepMonthly, monthKey, 'MONTHLY'],
    ];
    for (const [count, bucketOf, reason] of buckets) {
      if (count === null || count === 0) continue;
      const seen = new Set<string>();
      for (const version of newestFirst) {
        const bucket = bucketOf(version.createdAt);
        if (seen.has(bucket)) continue;
        seen.add(bucket);
        if (seen.size > count) break;
        keep(version, reason); // the newest version of each bucket stands for it
      }
    }
  }
  const newest = newestFirst[0];
  if (newest !== undefined) keep(newest, 'NEWEST');
  for (const version of newestFirst) if (version.isHeld) keep(version, 'HELD');
  const decision: RetentionDecision<V> = { kept: [], dropped: [] };
  for (const version of newestFirst) {
    const why = reasons.get(version.id) ?? [];
    if (why.length > 0) decision.kept.push({ version, reasons: [...new Set(why)] });
    else decision.dropped.push(version);
  }
  return decision;
}
