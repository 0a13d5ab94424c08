import type { ApolloServerPlugin } from '@apollo/server';
import type { RequestHandler } from 'express';
import {
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  GraphQLError,
  type GraphQLNamedType,
  type GraphQLSchema,
  getNamedType,
  getNullableType,
  getOperationAST,
  parse,
  isAbstractType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isListType,
  isObjectType,
  Kind,
  NoSchemaIntrospectionCustomRule,
  type OperationDefinitionNode,
  SchemaMetaFieldDef,
  type SelectionSetNode,
  type Source,
  TypeMetaFieldDef,
  TypeNameMetaFieldDef,
  type ValidationRule,
  validate,
  valueFromASTUntyped,
} from 'graphql';
import type { RequestContext } from './context.js';

/** The request budget (docs/api-limits.md); the values come from `config.queryLimits`. */
export interface QueryLimits {
  maxCost: number;
  maxDepth: number;
  maxAliases: number;
}

/**
 * What a list without a page-size argument is assumed to hold. The real lists of that kind are short (a job's
 * replicas, a system's spaces, a template's candidates) or one tenant's administrative objects.
 */
export const ASSUMED_LIST_SIZE = 10;

/** The arguments that say how many rows a field returns. */
const PAGE_SIZE_ARGUMENTS = ['first', 'limit'] as const;

/** `extensions.cost` on a field replaces its own cost of 1 (set with `@Expensive`). */
export const COST_EXTENSION = 'cost';

/**
 * `extensions.costPerItem` (`{ argument, cost }`) adds `cost` for each item of the field's list argument `argument`
 * (`missingChunks(hashes:)`: the work is one lookup per hash). A list given by a variable counts its real length
 * once the variables are known, and 1 at validation (the least it can be, as page sizes).
 */
export const ITEM_COST_EXTENSION = 'costPerItem';

export type LimitName = 'cost' | 'depth' | 'aliases';

export interface OperationMeasure {
  cost: number;
  depth: number;
  aliases: number;
  /** Selects `__schema` or `__type` somewhere. */
  introspects: boolean;
}

const sizesBySchema = new WeakMap<GraphQLSchema, ReadonlyMap<string, number>>();

/**
 * The introspection lists' sizes, from the served schema itself: the average per parent, so that a walk over the
 * whole schema (the standard introspection query) costs what it really resolves.
 */
function introspectionListSizes(schema: GraphQLSchema): ReadonlyMap<string, number> {
  const known = sizesBySchema.get(schema);
  if (known !== undefined) return known;
  const types = Object.values(schema.getTypeMap());
  const fields = types.flatMap((type) =>
    isObjectType(type) || isInterfaceType(type) ? Object.values(type.getFields()) : [],
  );
  const count = (of: (type: GraphQLNamedType) => number) => types.reduce((sum, type) => sum + of(type), 0);
  // Unrounded: a list that is empty on most types (interfaces here) must not count as one item on each.
  const average = (total: number, parents: number) => total / Math.max(1, parents);
  const directives = schema.getDirectives();
  const sizes = new Map([
    ['__Schema.types', types.length],
    ['__Schema.directives', directives.length],
    ['__Type.fields', average(fields.length, types.length)],
    [
      '__Type.inputFields',
      average(
        count((type) => (isInputObjectType(type) ? Object.keys(type.getFields()).length : 0)),
        types.length,
      ),
    ],
    [
      '__Type.enumValues',
      average(
        count((type) => (isEnumType(type) ? type.getValues().length : 0)),
        types.length,
      ),
    ],
    [
      '__Type.interfaces',
      average(
        count((type) => (isObjectType(type) || isInterfaceType(type) ? type.getInterfaces().length : 0)),
        types.length,
      ),
    ],
    [
      '__Type.possibleTypes',
      average(
        count((type) => (isAbstractType(type) ? schema.getPossibleTypes(type).length : 0)),
        types.length,
      ),
    ],
    [
      '__Field.args',
      average(
        fields.reduce((sum, field) => sum + field.args.length, 0),
        fields.length,
      ),
    ],
    [
      '__Directive.args',
      average(
        directives.reduce((sum, directive) => sum + directive.args.length, 0),
        directives.length,
      ),
    ],
  ]);
  sizesBySchema.set(schema, sizes);
  return sizes;
}

const NOTHING: OperationMeasure = { cost: 0, depth: 0, aliases: 0, introspects: false };

/** Cost stays a safe integer however large the page sizes multiply. */
const bounded = (value: number): number => Math.min(value, Number.MAX_SAFE_INTEGER);

/**
 * The cost, depth and aliases of one operation, with fragments expanded (each fragment measured once, so a
 * document that spreads fragments into each other costs linear work to measure, not exponential).
 * `variables` undefined means they are not known yet (at validation): a page size given by a variable then counts
 * as 1, the least it can be, so this never refuses what the same document with real variables would be allowed.
 */
export function measureOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables?: Readonly<Record<string, unknown>>,
): OperationMeasure {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const measuredFragments = new Map<string, OperationMeasure>();
  const inProgress = new Set<string>();
  const queryType = schema.getQueryType();
  const introspectionSizes = introspectionListSizes(schema);

  const fieldDefinition = (
    parent: GraphQLNamedType | undefined,
    name: string,
  ): GraphQLField<unknown, unknown> | undefined => {
    if (name === TypeNameMetaFieldDef.name) return TypeNameMetaFieldDef;
    if (parent !== undefined && parent === queryType) {
      if (name === SchemaMetaFieldDef.name) return SchemaMetaFieldDef;
      if (name === TypeMetaFieldDef.name) return TypeMetaFieldDef;
    }
    return isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[name] : undefined;
  };

  const variableValue = (name: string): unknown => {
    if (variables !== undefined && name in variables) return variables[name];
    const declared = operation.variableDefinitions?.find((definition) => definition.variable.name.value === name);
    return declared?.defaultValue === undefined ? undefined : valueFromASTUntyped(declared.defaultValue);
  };

  /** The rows a paginated field returns: its argument, else the argument's default; undefined if not paginated. */
  const pageSize = (field: GraphQLField<unknown, unknown>, node: FieldNode): number | undefined => {
    for (const name of PAGE_SIZE_ARGUMENTS) {
      const argument = field.args.find((candidate) => candidate.name === name);
      if (argument === undefined) continue;
      const given = node.arguments?.find((candidate) => candidate.name.value === name);
      let value: unknown = argument.defaultValue;
      if (given !== undefined) {
        if (given.value.kind === Kind.VARIABLE) {
          if (variables === undefined) return 1;
          value = variableValue(given.value.name.value) ?? argument.defaultValue;
        } else {
          value = valueFromASTUntyped(given.value);
        }
      }
      if (typeof value === 'number' && Number.isFinite(value)) return Math.max(1, Math.ceil(value));
      return typeof argument.defaultValue === 'number' ? argument.defaultValue : ASSUMED_LIST_SIZE;
    }
    return undefined;
  };

  /** What a field's list argument adds to its cost (see ITEM_COST_EXTENSION). */
  const itemCost = (field: GraphQLField<unknown, unknown>, node: FieldNode): number => {
    const rule = field.extensions?.[ITEM_COST_EXTENSION] as { argument?: unknown; cost?: unknown } | undefined;
    if (rule === undefined || typeof rule.argument !== 'string' || typeof rule.cost !== 'number') return 0;
    const given = node.arguments?.find((candidate) => candidate.name.value === rule.argument);
    if (given === undefined) return 0;
    let items = 1;
    if (given.value.kind === Kind.VARIABLE) {
      if (variables !== undefined) {
        const value = variableValue(given.value.name.value);
        items = Array.isArray(value) ? value.length : 1;
      }
    } else if (given.value.kind === Kind.LIST) {
      items = given.value.values.length;
    }
    return bounded(items * rule.cost);
  };

  /**
   * `inPage`: the selection is a paginated field's own (a connection's `edges`): its lists are the page's rows,
   * already counted by the page size.
   */
  const selectionSet = (
    set: SelectionSetNode,
    parent: GraphQLNamedType | undefined,
    inPage: boolean,
  ): OperationMeasure => {
    let cost = 0;
    let depth = 0;
    let aliases = 0;
    let introspects = false;
    const add = (measure: OperationMeasure) => {
      cost = bounded(cost + measure.cost);
      depth = Math.max(depth, measure.depth);
      aliases = bounded(aliases + measure.aliases);
      introspects ||= measure.introspects;
    };
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        const name = selection.name.value;
        const field = fieldDefinition(parent, name);
        const size = field === undefined ? undefined : pageSize(field, selection);
        const children =
          selection.selectionSet === undefined
            ? NOTHING
            : selectionSet(
                selection.selectionSet,
                field === undefined ? undefined : getNamedType(field.type),
                size !== undefined,
              );
        const isList = field !== undefined && isListType(getNullableType(field.type));
        const listSize = (parent && introspectionSizes.get(`${parent.name}.${name}`)) ?? ASSUMED_LIST_SIZE;
        const rows = size ?? (isList && !inPage ? listSize : 1);
        const introspects = name === SchemaMetaFieldDef.name || name === TypeMetaFieldDef.name;
        const own = field?.extensions?.[COST_EXTENSION];
        add({
          cost: bounded(
            (typeof own === 'number' ? own : 1) +
              (field === undefined ? 0 : itemCost(field, selection)) +
              rows * children.cost,
          ),
          // As graphql-depth-limit does: introspection nests by its nature (a type's `ofType` chain), and what it
          // could fan out to is bounded by its cost.
          depth: introspects ? 0 : 1 + children.depth,
          aliases: (selection.alias === undefined ? 0 : 1) + children.aliases,
          introspects: introspects || children.introspects,
        });
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const condition = selection.typeCondition?.name.value;
        const type = condition === undefined ? parent : (schema.getType(condition) ?? undefined);
        add(selectionSet(selection.selectionSet, type, inPage));
      } else {
        add(fragment(selection.name.value, inPage));
      }
    }
    return { cost, depth, aliases, introspects };
  };

  const fragment = (name: string, inPage: boolean): OperationMeasure => {
    const key = `${inPage ? 'page' : 'plain'}:${name}`;
    const known = measuredFragments.get(key);
    if (known !== undefined) return known;
    const definition = fragments.get(name);
    // An unknown fragment, or one that spreads itself: validation refuses the document; it adds nothing here.
    if (definition === undefined || inProgress.has(key)) return NOTHING;
    inProgress.add(key);
    const type = schema.getType(definition.typeCondition.name.value) ?? undefined;
    const measure = selectionSet(definition.selectionSet, type, inPage);
    inProgress.delete(key);
    measuredFragments.set(key, measure);
    return measure;
  };

  const root =
    operation.operation === 'query'
      ? schema.getQueryType()
      : operation.operation === 'mutation'
        ? schema.getMutationType()
        : schema.getSubscriptionType();
  const measure = selectionSet(operation.selectionSet, root ?? undefined, false);
  // Introspection lists are sized by averages, so a cost may have a fraction; what is reported is whole.
  return { ...measure, cost: Math.ceil(measure.cost) };
}

const WHAT_IS_RIGHT: Record<LimitName, (allowed: number) => string> = {
  cost: (allowed) =>
    `at most ${allowed} is allowed: ask for smaller pages (first), fewer nested lists or fewer fields, or split it into several requests`,
  depth: (allowed) =>
    `at most ${allowed} levels are allowed: select fewer nested levels, or split it into several requests`,
  aliases: (allowed) => `at most ${allowed} are allowed: send fewer aliased fields per request`,
};

const WHAT_WAS_WRONG: Record<LimitName, (measured: number) => string> = {
  cost: (measured) => `costs ${measured}`,
  depth: (measured) => `nests fields ${measured} levels deep`,
  aliases: (measured) => `has ${measured} aliased fields`,
};

/** The typed refusal: BAD_USER_INPUT naming the limit, the allowed value and the measured one. */
export function limitError(
  limit: LimitName,
  allowed: number,
  measured: number,
  operation?: OperationDefinitionNode,
): GraphQLError {
  const subject = operation?.name === undefined ? 'this operation' : `operation ${operation.name.value}`;
  return new GraphQLError(`${subject} ${WHAT_WAS_WRONG[limit](measured)}; ${WHAT_IS_RIGHT[limit](allowed)}`, {
    nodes: operation,
    extensions: { code: 'BAD_USER_INPUT', limit, allowed, measured },
  });
}

/** Every limit the measure exceeds. */
export function overLimits(
  measure: OperationMeasure,
  limits: QueryLimits,
  operation?: OperationDefinitionNode,
): GraphQLError[] {
  const errors: GraphQLError[] = [];
  if (measure.cost > limits.maxCost) errors.push(limitError('cost', limits.maxCost, measure.cost, operation));
  if (measure.depth > limits.maxDepth) errors.push(limitError('depth', limits.maxDepth, measure.depth, operation));
  if (measure.aliases > limits.maxAliases) {
    errors.push(limitError('aliases', limits.maxAliases, measure.aliases, operation));
  }
  return errors;
}

/**
 * The cost, depth and alias limits as a validation rule: every operation of the document is measured (variables
 * are not known at validation; see `measureOperation`).
 */
export function queryLimitsRule(limits: QueryLimits): ValidationRule {
  return (context) => ({
    OperationDefinition(operation) {
      const measure = measureOperation(context.getSchema(), context.getDocument(), operation);
      for (const error of overLimits(measure, limits, operation)) context.reportError(error);
      return false;
    },
    FragmentDefinition: () => false,
  });
}

/** The limits of the operation a request runs, with its variables; empty when it is within them. */
export function requestOverLimits(
  schema: GraphQLSchema,
  document: DocumentNode,
  request: { operationName?: unknown; variables?: unknown },
  limits: QueryLimits,
): GraphQLError[] {
  const operationName = typeof request.operationName === 'string' ? request.operationName : undefined;
  const operation = getOperationAST(document, operationName);
  if (!operation) return [];
  const variables =
    typeof request.variables === 'object' && request.variables !== null && !Array.isArray(request.variables)
      ? (request.variables as Record<string, unknown>)
      : {};
  return overLimits(measureOperation(schema, document, operation, variables), limits, operation);
}

export interface BudgetConfig {
  queryLimits: QueryLimits;
  introspection: 'on' | 'authenticated' | 'off';
}

interface DocumentCache {
  parse: (source: string | Source) => DocumentNode;
  validate: (schema: GraphQLSchema, document: DocumentNode) => ReadonlyArray<GraphQLError>;
}

const requestFields = (source: unknown): { query?: unknown; operationName?: unknown; variables?: unknown } =>
  typeof source === 'object' && source !== null && !Array.isArray(source) ? source : {};

/**
 * The request budget on both transports, from one configuration: the same rules in Apollo's and graphql-ws's
 * validation, the real variables checked before anything runs, and introspection as configured.
 */
export function createRequestBudget(schema: GraphQLSchema, config: BudgetConfig, documents: DocumentCache) {
  const limits = config.queryLimits;
  const rules: ValidationRule[] = [
    queryLimitsRule(limits),
    ...(config.introspection === 'off' ? [NoSchemaIntrospectionCustomRule] : []),
  ];
  const ruled = new WeakMap<DocumentNode, ReadonlyArray<GraphQLError>>();

  const refusals = (
    request: { query?: unknown; operationName?: unknown; variables?: unknown },
    parseText: (text: string) => DocumentNode,
  ): GraphQLError[] => {
    if (typeof request.query !== 'string') return [];
    let document: DocumentNode;
    try {
      document = parseText(request.query);
    } catch {
      // Not GraphQL: the transport's own parse reports it.
      return [];
    }
    return requestOverLimits(schema, document, request, limits);
  };

  /**
   * Before authentication: a request over budget costs no key check and no database work. GET requests carry
   * the variables as JSON text. Parsed afresh: the document cache keeps 1000 texts, and HTTP bodies of up to
   * 1 MB from anyone would make that a gigabyte; Apollo keeps its own, size-bounded, for what it runs.
   */
  const httpGate: RequestHandler = (req, res, next) => {
    const fields = requestFields(req.method === 'GET' ? req.query : req.body);
    let variables = fields.variables;
    if (typeof variables === 'string') {
      try {
        variables = JSON.parse(variables);
      } catch {
        variables = undefined;
      }
    }
    const errors = refusals({ ...fields, variables }, (text) => parse(text));
    if (errors.length === 0) {
      next();
      return;
    }
    res.status(400).json({ errors: errors.map((error) => error.toJSON()) });
  };

  /** Introspection for authenticated callers only: the principal is known once Apollo has built the context. */
  const apolloPlugin: ApolloServerPlugin<RequestContext> = {
    async requestDidStart() {
      if (config.introspection !== 'authenticated') return;
      return {
        async didResolveOperation({ contextValue, document, operation }) {
          if (contextValue.principal !== undefined || operation === undefined) return;
          if (!measureOperation(schema, document, operation).introspects) return;
          throw new GraphQLError('schema introspection needs a credential: send Authorization: Bearer <API key>', {
            extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } },
          });
        },
      };
    },
  };

  return {
    /**
     * Apollo's options. Its own introspection switch stays on: the rule above refuses introspection, once and in
     * our words (Apollo's own refusal would add a second error that tells clients how to configure the server).
     */
    apollo: { introspection: true, validationRules: rules, plugin: apolloPlugin },
    httpGate,
    /**
     * graphql-ws's parse, validate and onSubscribe: the cached validation with the budget rules after it (each
     * document ruled once), and the real variables checked before the operation runs. graphql-ws connections are
     * always authenticated, so 'authenticated' introspection needs nothing more there.
     */
    ws: {
      parse: documents.parse,
      validate(target: GraphQLSchema, document: DocumentNode): ReadonlyArray<GraphQLError> {
        const errors = documents.validate(target, document);
        if (errors.length > 0) return errors;
        let budgetErrors = ruled.get(document);
        if (budgetErrors === undefined) {
          budgetErrors = validate(target, document, rules);
          ruled.set(document, budgetErrors);
        }
        return budgetErrors;
      },
      onSubscribe(
        _ctx: unknown,
        _id: string,
        payload: { query?: unknown; operationName?: unknown; variables?: unknown },
      ) {
        const errors = refusals(payload, documents.parse);
        return errors.length > 0 ? errors : undefined;
      },
    },
  };
}
