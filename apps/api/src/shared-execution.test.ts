import { buildSchema, type ExecutionResult, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { createDocumentCache, createSharedSubscribe, mapIterator } from './shared-execution.js';

const schema = buildSchema(`
  type Query { ok: Boolean }
  type Tick { n: Int }
  type Subscription { tick: Tick }
`);

/** Shared payloads, as a job's feed hands the same object to each of its subscribers; counts field resolutions. */
function payloads(count: number) {
  let resolved = 0;
  const items = Array.from({ length: count }, (_, index) => ({
    tick: {
      get n() {
        resolved++;
        return index + 1;
      },
    },
  }));
  return { items, resolved: () => resolved };
}

const asIterator = <T>(items: T[]): AsyncIterator<T> => {
  let index = 0;
  return {
    next: async () =>
      index < items.length ? { value: items[index++] as T, done: false } : { value: undefined, done: true },
  };
};

const contextFor = (roles: string[]) => ({ principal: { kind: 'identity', identity: { roles }, tenant: {} } });

async function drain(result: unknown): Promise<ExecutionResult[]> {
  const out: ExecutionResult[] = [];
  for await (const item of result as AsyncIterable<ExecutionResult>) out.push(item);
  return out;
}

describe('shared subscription execution', () => {
  it('executes each shared event once per document and roles, whatever the number of subscribers', async () => {
    const { items, resolved } = payloads(3);
    const subscribe = createSharedSubscribe();
    const run = (roles: string[]) =>
      subscribe({
        schema,
        document: parse('subscription { tick { n } }'),
        rootValue: { tick: () => ({ [Symbol.asyncIterator]: () => asIterator(items) }) },
        contextValue: contextFor(roles),
      }).then(drain);
    const results = await Promise.all(Array.from({ length: 20 }, () => run(['OPERATOR'])));
    for (const received of results)
      expect(received.map((result) => result.data)).toEqual([1, 2, 3].map((n) => ({ tick: { n } })));
    expect(resolved()).toBe(3);
    // Other roles: executed for them, not handed another role's result.
    await run(['AUDITOR']);
    expect(resolved()).toBe(6);
  });

  it('passes return() to the source at once, even while a next() waits', async () => {
    let returned = false;
    const never: AsyncIterator<number> = {
      next: () => new Promise(() => undefined),
      return: async () => {
        returned = true;
        return { value: undefined, done: true };
      },
    };
    const mapped = mapIterator(never, (value) => value * 2);
    void mapped.next();
    await mapped.return?.();
    expect(returned).toBe(true);
  });
});

describe('createDocumentCache', () => {
  it('parses and validates a document text once for every subscriber that sends it', () => {
    const cache = createDocumentCache();
    const text = 'subscription { tick { n } }';
    const first = cache.parse(text);
    expect(cache.parse(text)).toBe(first);
    const errors = cache.validate(schema, first);
    expect(errors).toEqual([]);
    expect(cache.validate(schema, first)).toBe(errors);
    // Another text is another document, checked on its own.
    const wrong = cache.parse('subscription { tick { missing } }');
    expect(wrong).not.toBe(first);
    expect(cache.validate(schema, wrong).map((error) => error.message)).toEqual([
      'Cannot query field "missing" on type "Tick".',
    ]);
  });

  it('keeps nothing for a text that does not parse: it throws each time', () => {
    const cache = createDocumentCache();
    expect(() => cache.parse('subscription {')).toThrow(/Syntax Error/);
    expect(() => cache.parse('subscription {')).toThrow(/Syntax Error/);
  });
});
