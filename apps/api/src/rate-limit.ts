import { DomainError } from '@echelon/domain';
import { createMethodMiddlewareDecorator, Extensions } from 'type-graphql';
import type { RequestContext } from './context.js';
import { COST_EXTENSION } from './query-limits.js';
import { callerKey, TokenBuckets } from './token-buckets.js';

/** One set of buckets per API configuration, that is per API server. */
const bucketsByConfig = new WeakMap<RequestContext['config'], TokenBuckets>();

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
