import { loadConfig } from '@echelon/config';
import {
  type DocumentNode,
  type GraphQLError,
  type GraphQLSchema,
  getIntrospectionQuery,
  getOperationAST,
  NoSchemaIntrospectionCustomRule,
  parse,
  print,
  specifiedRules,
  validate,
} from 'graphql';
import { beforeAll, describe, expect, it } from 'vitest';
import { ATTACK, JOB_ROW } from '../test/budget-probes.js';
import * as UI from '../../web/lib/operations.js';
import {
  ASSUMED_LIST_SIZE,
  createRequestBudget,
  measureOperation,
  type QueryLimits,
  queryLimitsRule,
  requestOverLimits,
} from './query-limits.js';
import { buildEchelonSchema } from './schema.js';
import { createDocumentCache } from './shared-execution.js';

/** The defaults an API started without settings uses. */
const DEFAULTS: QueryLimits = loadConfig({}).queryLimits;

let schema: GraphQLSchema;
beforeAll(async () => {
  schema = await buildEchelonSchema();
});

const measure = (text: string, variables?: Record<string, unknown>) => {
  const document = parse(text);
  const operation = getOperationAST(document);
  if (!operation) throw new Error('no operation');
  return measureOperation(schema, document, operation, variables);
};

const refusals = (text: string, limits: QueryLimits = DEFAULTS): readonly GraphQLError[] =>
  validate(schema, parse(text), [...specifiedRules, queryLimitsRule(limits)]);

describe('the request budget: what a query costs', () => {
  it('counts 1 per field, nesting as depth and aliased fields', () => {
    expect(measure('{ viewer { identity { id externalId } tenant { id } } }')).toEqual({
      cost: 6,
      depth: 3,
      aliases: 0,
      introspects: false,
    });
    expect(measure('{ me: viewer { identity { id } } again: viewer { tenant { id } } }')).toMatchObject({
      cost: 6,
      aliases: 2,
    });
  });

  it('multiplies a list’s selection by the assumed size, and a page by its `first`, default or variable', () => {
    // storageSystems and spaces are lists without a page size.
    expect(measure('{ storageSystems { id spaces { id } } }').cost).toBe(
      1 + ASSUMED_LIST_SIZE * (1 + 1 + ASSUMED_LIST_SIZE * 1),
    );
    // A page's edges are its rows: counted once, by the page size, not again as a list.
    const page = (first: string) => `{ backupJobs${first} { totalCount edges { node { id } } } }`;
    expect(measure(page('(first: 20)')).cost).toBe(1 + 20 * (1 + 1 + 1 + 1));
    expect(measure(page('')).cost).toBe(1 + 50 * 4);
    const withVariable = 'query($n: Int) { backupJobs(first: $n) { edges { node { id } } } }';
    expect(measure(withVariable, { n: 500 }).cost).toBe(1 + 500 * 3);
    expect(measure(withVariable, {}).cost).toBe(1 + 50 * 3);
    expect(measure('query($n: Int = 7) { backupJobs(first: $n) { edges { node { id } } } }', {}).cost).toBe(1 + 7 * 3);
    // Not known yet (validation): the least the variable can make it.
    expect(measure(withVariable).cost).toBe(1 + 1 * 3);
    expect(measure('{ replicaHistory(first: 1000) { edges { node { id } } } }').cost).toBe(1 + 1000 * 3);
  });

  it('expands fragments and inline fragments, and survives a fragment that spreads itself', () => {
    const inline = measure('{ viewer { ... on Viewer { identity { id } } } }');
    const named = measure('{ viewer { ...V } } fragment V on Viewer { identity { id } }');
    expect(named).toEqual(inline);
    expect(named).toMatchObject({ cost: 3, depth: 3 });
    expect(measure('{ viewer { ...A } } fragment A on Viewer { identity { id } ...A }').cost).toBe(3);
    expect(refusals('{ viewer { ...A } } fragment A on Viewer { identity { id } ...A }').length).toBeGreaterThan(0);
  });

  it('measures a fragment bomb in linear time and refuses it', () => {
    const fragments = ['fragment F0 on Identity { id }'];
    for (let level = 1; level < 40; level++) {
      fragments.push(`fragment F${level} on Identity { ...F${level - 1} a${level}: id ...F${level - 1} }`);
    }
    const started = performance.now();
    const measured = measure(`{ viewer { identity { ...F39 } } }\n${fragments.join('\n')}`);
    expect(performance.now() - started).toBeLessThan(50);
    expect(measured.cost).toBeGreaterThan(DEFAULTS.maxCost);
    expect(measured.aliases).toBeGreaterThan(DEFAULTS.maxAliases);
  });

  it('charges the expensive fields what they declare', () => {
    expect(measure('{ verifyAuditChain { ok } }').cost).toBe(1000 + 1);
    expect(measure('{ previewScheme(input: { identityId: "x", sizeBytes: 1 }) { copies } }').cost).toBe(100 + 1);
  });

  it('counts introspection in the cost, sized by the served schema, but not in the depth', () => {
    const standard = measure(getIntrospectionQuery());
    expect(standard.introspects).toBe(true);
    expect(standard.cost).toBeGreaterThan(1000);
    expect(standard.cost).toBeLessThan(DEFAULTS.maxCost);
    expect(standard.depth).toBe(0);
    expect(measure('{ __typename }')).toMatchObject({ cost: 1, introspects: false });
    // Fields of types of fields of types…: each level multiplies, so a deep walk of the schema is refused by cost.
    let walk = 'name';
    for (let level = 0; level < 6; level++) walk = `fields { type { ${walk} } }`;
    expect(measure(`{ __schema { types { ${walk} } } }`).cost).toBeGreaterThan(DEFAULTS.maxCost);
  });
});

describe('the request budget: refusals', () => {
  it('refuses the 14 KB probe at validation with typed errors naming the limits', () => {
    expect(ATTACK.length).toBeGreaterThan(13_000);
    expect(ATTACK.length).toBeLessThan(15_000);
    const errors = refusals(ATTACK);
    // The budget rule alone, as the API's gate runs it before anything else; the median of warm runs.
    const times = Array.from({ length: 7 }, () => {
      const started = performance.now();
      validate(schema, parse(ATTACK), [queryLimitsRule(DEFAULTS)]);
      return performance.now() - started;
    }).sort((a, b) => a - b);
    expect(times[3]).toBeLessThan(50);
    const byLimit = new Map(errors.map((error) => [error.extensions.limit, error]));
    expect([...byLimit.keys()].sort()).toEqual(['aliases', 'cost']);
    const cost = byLimit.get('cost');
    expect(cost?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit: 'cost', allowed: DEFAULTS.maxCost });
    expect(cost?.extensions.measured).toBeGreaterThan(1_000_000);
    expect(cost?.message).toMatch(/costs \d+; at most 20000 is allowed: ask for smaller pages/);
    expect(byLimit.get('aliases')?.extensions).toMatchObject({ allowed: DEFAULTS.maxAliases, measured: 50 });
  });

  it('refuses cost alone, depth alone and aliases alone', () => {
    // One page of 500 of those rows is over the cost and nothing else.
    const onePage = `{ backupJobs(first: 500) { edges { node { ${JOB_ROW} } } } }`;
    expect(refusals(onePage).map((error) => error.extensions.limit)).toEqual(['cost']);
    expect(refusals(onePage, { ...DEFAULTS, maxCost: 1_000_000 })).toEqual([]);

    const depth = refusals('{ backupJob(id: "x") { scheme { template { primary { spaces { id } } } } } }', {
      ...DEFAULTS,
      maxDepth: 5,
    });
    expect(depth.map((error) => [error.extensions.limit, error.extensions.measured])).toEqual([['depth', 6]]);

    const aliases = (count: number) =>
      `{ ${Array.from({ length: count }, (_, index) => `v${index}: viewer { identity { id } }`).join(' ')} }`;
    expect(refusals(aliases(DEFAULTS.maxAliases))).toEqual([]);
    expect(refusals(aliases(DEFAULTS.maxAliases + 1)).map((error) => error.extensions.limit)).toEqual(['aliases']);
    // verifyAuditChain 1000 times: over the alias cap and, at 1000 each, the cost.
    const audits = `{ ${Array.from({ length: 1000 }, (_, index) => `c${index}: verifyAuditChain { ok }`).join(' ')} }`;
    expect(
      refusals(audits)
        .map((error) => error.extensions.limit)
        .sort(),
    ).toEqual(['aliases', 'cost']);
  });

  it('measures a document nested 2000 deep without running out of stack', () => {
    const text = `{ viewer ${'{ identity '.repeat(2000)}{ id${' }'.repeat(2001)} }`;
    expect(refusals(text, DEFAULTS).map((error) => [error.extensions.limit, error.extensions.measured])).toContainEqual(
      ['depth', 2002],
    );
  });

  it('checks the real variables of a request', () => {
    const text = 'query Jobs($n: Int) { backupJobs(first: $n) { edges { node { id replicas { id } } } } }';
    expect(refusals(text)).toEqual([]);
    const document = parse(text);
    expect(requestOverLimits(schema, document, { variables: { n: 20 } }, DEFAULTS)).toEqual([]);
    const [error] = requestOverLimits(schema, document, { variables: { n: 5000 } }, DEFAULTS);
    expect(error?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit: 'cost', measured: 1 + 5000 * 14 });
    expect(error?.message).toMatch(/^operation Jobs costs 70001/);
  });
});

describe('the request budget: what the web UI and the tests send', () => {
  // The console's typed documents (fragments travel inside the operations that use them).
  const documents = Object.entries(UI).flatMap(([name, value]) =>
    typeof value === 'object' && value.definitions.some((definition) => definition.kind === 'OperationDefinition')
      ? [{ name, text: print(value) }]
      : [],
  );

  it('lets every operation of apps/web/lib/operations.ts through with the default limits', () => {
    expect(documents.length).toBeGreaterThanOrEqual(10);
    const problems = documents.flatMap(({ name, text }) => {
      const document: DocumentNode = parse(text);
      const errors = [
        ...validate(schema, document, [...specifiedRules, queryLimitsRule(DEFAULTS)]),
        ...requestOverLimits(schema, document, { variables: { first: UI.JOBS_PAGE_SIZE } }, DEFAULTS),
      ];
      return errors.map((error) => `${name}: ${error.message}`);
    });
    expect(problems).toEqual([]);
  });

  it('lets the heaviest queries of the integration suites through', () => {
    for (const text of [
      // isolation.int.test.ts
      '{ backupJobs(first: 500) { totalCount edges { node { id datasetKey identity { id } replicas { id storageSystem { id } } } } } }',
      '{ replicaHistory(first: 1000) { edges { node { id jobId replica { id storageSystem { id } } } } } }',
      '{ datasets { key identity { id } versions { number job { id replicas { id } } } } }',
      // history.int.test.ts, with first: 1000
      `{ replicaHistory(first: 1000) { edges { cursor node { id jobId status at replica { id storageSystem { id } } } }
         pageInfo { hasNextPage endCursor } } }`,
      // hostile-input.int.test.ts
      `fragment Ref on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } }
       { __schema { queryType { name } mutationType { name }
         types { kind name fields { name args { name defaultValue type { ...Ref } } type { ...Ref } }
           inputFields { name defaultValue type { ...Ref } } enumValues { name } } } }`,
      getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, inputValueDeprecation: true }),
    ]) {
      expect(refusals(text).map((error) => error.message)).toEqual([]);
    }
  });
});

describe('the request budget on graphql-ws', () => {
  const budgetOver = (introspection: 'on' | 'off') =>
    createRequestBudget(schema, { queryLimits: DEFAULTS, introspection }, createDocumentCache());

  it('validates with the cache and the budget rules, each document once', () => {
    const { ws } = budgetOver('on');
    const attack = ws.parse(ATTACK);
    expect(ws.parse(ATTACK)).toBe(attack);
    const errors = ws.validate(schema, attack);
    expect(errors.map((error) => error.extensions.limit).sort()).toEqual(['aliases', 'cost']);
    expect(ws.validate(schema, attack)).toBe(errors);
    // The spec's own rules still come first.
    expect(ws.validate(schema, ws.parse('{ viewer { nope } }'))[0]?.message).toMatch(/Cannot query field "nope"/);
    expect(ws.validate(schema, ws.parse(print(UI.VIEWER_QUERY)))).toEqual([]);
  });

  it('refuses a subscription whose variables are over budget before it runs', () => {
    const { ws } = budgetOver('on');
    const query = 'query Jobs($n: Int) { backupJobs(first: $n) { edges { node { id replicas { id } } } } }';
    expect(ws.onSubscribe(undefined, '1', { query, variables: { n: 10 } })).toBeUndefined();
    expect(ws.onSubscribe(undefined, '1', { query, variables: { n: 5000 } })?.[0]?.extensions.limit).toBe('cost');
    expect(ws.onSubscribe(undefined, '1', { query: '{ not graphql' })).toBeUndefined();
  });

  it('refuses introspection when it is off, and only then', () => {
    const introspect = '{ __schema { queryType { name } } }';
    const off = budgetOver('off').ws;
    expect(off.validate(schema, off.parse(introspect))[0]?.message).toMatch(/introspection has been disabled/);
    expect(off.validate(schema, off.parse('{ viewer { __typename } }'))).toEqual([]);
    const on = budgetOver('on').ws;
    expect(on.validate(schema, on.parse(introspect))).toEqual([]);
    // Over HTTP the same rule refuses it: Apollo's own switch stays on, so only our error is sent.
    expect(budgetOver('off').apollo.validationRules).toContain(NoSchemaIntrospectionCustomRule);
    expect(budgetOver('on').apollo.validationRules).not.toContain(NoSchemaIntrospectionCustomRule);
    expect(budgetOver('off').apollo.introspection).toBe(true);
  });
});
