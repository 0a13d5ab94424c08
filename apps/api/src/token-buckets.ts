import type { Principal } from './context.js';

/** Buckets kept at most; a full bucket is the same as none, so those go first when the map is full. */
const MAX_BUCKETS = 10_000;

/**
 * One token bucket per key: `perMinute` tokens at most, refilled continuously at `perMinute` a minute, so a key
 * may burst up to its whole minute's allowance and then gets one call every 60/perMinute seconds. Memory is
 * bounded by `maxBuckets`.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly perMs: number;

  constructor(
    private readonly perMinute: number,
    private readonly maxBuckets = MAX_BUCKETS,
    private readonly now: () => number = Date.now,
  ) {
    this.perMs = perMinute / 60_000;
  }

  /**
   * Takes `cost` tokens (1 by default, at most `perMinute`) for `key`: 0 when they were taken, else the whole
   * seconds until they will be there.
   */
  take(key: string, cost = 1): number {
    const now = this.now();
    const bucket = this.buckets.get(key);
    let tokens = bucket === undefined ? this.perMinute : this.refilled(bucket, now);
    // Re-inserted on every use, so the map's order is least recently used first.
    this.buckets.delete(key);
    const taken = tokens >= cost;
    if (taken) tokens -= cost;
    this.makeRoom(now);
    this.buckets.set(key, { tokens, at: now });
    return taken ? 0 : Math.max(1, Math.ceil((cost - tokens) / this.perMs / 1000));
  }

  get size(): number {
    return this.buckets.size;
  }

  private refilled(bucket: { tokens: number; at: number }, now: number): number {
    return Math.min(this.perMinute, bucket.tokens + Math.max(0, now - bucket.at) * this.perMs);
  }

  private makeRoom(now: number): void {
    if (this.buckets.size < this.maxBuckets) return;
    for (const [key, bucket] of this.buckets) {
      if (this.refilled(bucket, now) >= this.perMinute) this.buckets.delete(key);
    }
    // Still full: the least recently used key starts afresh, which only ever lets a call through early.
    while (this.buckets.size >= this.maxBuckets) {
      const oldest = this.buckets.keys().next().value;
      if (oldest === undefined) break;
      this.buckets.delete(oldest);
    }
  }
}

/** The bucket key of a caller: its API key (or session's), the bootstrap token, or anonymous. */
export const callerKey = (context: { principal: Principal | undefined }): string => {
  const principal = context.principal;
  if (principal === undefined) return 'anonymous';
  return principal.kind === 'bootstrap' ? 'bootstrap' : `key:${principal.apiKeyId}`;
};
