import { DomainError } from '@echelon/domain';
import { createMethodMiddlewareDecorator, Extensions } from 'type-graphql';
import type { RequestContext } from './context.js';
import { COST_EXTENSION } from './query-limits.js';

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

  /** Takes a token for `key`: 0 when it was taken, else the whole seconds until one will be there. */
  take(key: string): number {
    const now = this.now();
    const bucket = this.buckets.get(key);
    let tokens = bucket === undefined ? this.perMinute : this.refilled(bucket, now);
    // Re-inserted on every use, so the map's order is least recently used first.
    this.buckets.delete(key);
    const taken = tokens >= 1;
    if (taken) tokens -= 1;
    this.makeRoom(now);
    this.buckets.set(key, { tokens, at: now });
    return taken ? 0 : Math.max(1, Math.ceil((1 - tokens) / this.perMs / 1000));
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

/** One set of buckets per API configuration, that is per API server. */
const bucketsByConfig = new WeakMap<RequestContext['config'], TokenBuckets>();

const callerKey = (context: RequestContext): string => {
  const principal = context.principal;
  if (principal === undefined) return 'anonymous';
  return principal.kind === 'bootstrap' ? 'bootstrap' : `key:${principal.apiKeyId}`;
};

const rateLimited = createMethodMiddlewareDecorator<RequestContext>(({ context, info }, next) => {
  const perMinute = context.config.expensivePerMinute;
  let buckets = bucketsByConfig.get(context.config);
  if (buckets === undefined) {
    buckets = new TokenBuckets(perMinute);
    bucketsByConfig.set(context.config, buckets);
  }
  const field = `${info.parentType.name}.${info.fieldName}`;
  const retryAfterSeconds = buckets.take(`${callerKey(context)}\n${field}`);
  if (retryAfterSeconds > 0) {
    throw new DomainError(
      'BAD_USER_INPUT',
      `${info.fieldName} may be called ${perMinute} times a minute per API key, and this key has used them: try again in ${retryAfterSeconds} s`,
      { limit: 'rate', field: info.fieldName, allowed: perMinute, per: 'minute', retryAfterSeconds },
    );
  }
  return next();
});

/**
 * Marks a field that does much work per call: it costs `cost` in the request budget instead of 1, and each API
 * key may call it `config.expensivePerMinute` times a minute (each alias is a call). type-graphql runs
 * `@Authorized` before any middleware, so a caller refused there spends no token.
 */
export function Expensive(options: { cost: number }): MethodDecorator {
  const extensions = Extensions({ [COST_EXTENSION]: options.cost, expensive: true });
  return (target, key, descriptor) => {
    extensions(target, key, descriptor);
    rateLimited(target, key, descriptor);
  };
}
