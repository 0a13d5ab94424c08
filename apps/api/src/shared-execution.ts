import {
  createSourceEventStream,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  execute,
  type GraphQLError,
  type GraphQLSchema,
  parse,
  print,
  type Source,
  validate,
} from 'graphql';
import { type RequestContext, rolesOf } from './context.js';

/** The value a map keeps under `key`, made and kept first when there is none. */
export function kept<K, V>(
  map: { get(key: K): V | undefined; set(key: K, value: V): unknown },
  key: K,
  make: () => V,
): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}

/** Maps an iterator item by item; return() reaches the source at once, even while a next() is pending. */
export function mapIterator<T, U>(
  source: AsyncIterator<T>,
  map: (item: T) => U | Promise<U>,
): AsyncIterableIterator<U> {
  const iterator: AsyncIterableIterator<U> = {
    async next() {
      const result = await source.next();
      return result.done ? { value: undefined, done: true } : { value: await map(result.value), done: false };
    },
    async return() {
      await source.return?.();
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}

/**
 * graphql-ws's `subscribe`, with one execution per event and per distinct subscription, shared by every
 * subscriber that receives the same event object: the payloads of a job's feed (or of a tenant's job updates)
 * are shared objects, so 20 subscribers of a job with the same document, variables and roles get one execution
 * instead of 20. Only events that every one of them may see are shared (the feeds are per tenant and job, and a
 * MEMBER's filter runs before its stream yields), and the roles are part of the key, so the result is what each
 * of them would have got.
 */
export function createSharedSubscribe() {
  const executions = new WeakMap<object, Map<string, Promise<ExecutionResult> | ExecutionResult>>();
  const printed = new WeakMap<DocumentNode, string>();
  return async (args: ExecutionArgs) => {
    const source = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in source)) return source;
    const context = args.contextValue as RequestContext | undefined;
    const roles = context?.principal === undefined ? '' : [...rolesOf(context.principal)].sort().join(',');
    const text = kept(printed, args.document, () => print(args.document));
    const key = `${roles}\n${args.operationName ?? ''}\n${JSON.stringify(args.variableValues ?? {})}\n${text}`;
    return mapIterator(source[Symbol.asyncIterator](), (payload: unknown) => {
      if (typeof payload !== 'object' || payload === null) return execute({ ...args, rootValue: payload });
      const byKey = kept(executions, payload, () => new Map<string, Promise<ExecutionResult> | ExecutionResult>());
      return kept(byKey, key, () => execute({ ...args, rootValue: payload }));
    });
  };
}

/** Documents kept by `createDocumentCache`: the distinct subscription texts one API process sees, with room to spare. */
const PARSED_LIMIT = 1000;

/**
 * graphql-ws's `parse` and `validate`, remembered: a thousand clients subscribing with the same document text
 * share one parsed document and one validation instead of a thousand of each. Validation depends only on the
 * schema and the document; a text that does not parse is not kept (it throws each time, as before).
 */
export function createDocumentCache(): {
  parse: (source: string | Source) => DocumentNode;
  validate: (schema: GraphQLSchema, document: DocumentNode) => ReadonlyArray<GraphQLError>;
} {
  const documents = new Map<string, DocumentNode>();
  const validations = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, ReadonlyArray<GraphQLError>>>();
  return {
    parse(source) {
      const text = typeof source === 'string' ? source : source.body;
      let document = documents.get(text);
      if (document === undefined) {
        document = parse(text);
        if (documents.size >= PARSED_LIMIT) documents.delete(documents.keys().next().value as string);
        documents.set(text, document);
      }
      return document;
    },
    validate(schema, document) {
      const bySchema = kept(validations, schema, () => new WeakMap<DocumentNode, ReadonlyArray<GraphQLError>>());
      return kept(bySchema, document, () => validate(schema, document));
    },
  };
}
