import { type RetentionRules, validateRetentionRules } from './retention.js';
import { DomainError } from './errors.js';

/** Thirty days: the longest delay a policy may ask for between two copies. */
export const MAX_DELAY_SECONDS = 30 * 24 * 3600;
export const MAX_NAME_LENGTH = 200;

const bad = (field: string, message: string): DomainError => new DomainError('BAD_USER_INPUT', message, { field });

/** Trims and checks a human-readable name: 1–200 characters, no control characters. */
export function validateName(value: string, field: string): string {
  const name = value.trim();
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused
  if (name.length === 0 || name.length > MAX_NAME_LENGTH || /[\u0000-\u001f\u007f]/.test(name)) {
    throw bad(field, `${field} must be 1–${MAX_NAME_LENGTH} characters without control characters`);
  }
  return name;
}

const SLUG = /^[a-z0-9][a-z0-9-]{1,62}$/;
export function validateSlug(slug: string): string {
  if (!SLUG.test(slug))
    throw bad(
      'slug',
      `slug "${slug.slice(0, 80)}" must be 2–63 lowercase letters, digits and "-", starting with a letter or digit`,
    );
  return slug;
}

const EXTERNAL_ID = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,199}$/;
export function validateExternalId(externalId: string): string {
  if (!EXTERNAL_ID.test(externalId)) {
    throw bad(
      'externalId',
      `externalId "${externalId.slice(0, 80)}" must be 1–200 letters, digits, ".", "_", "@", "+" or "-"`,
    );
  }
  return externalId;
}

const GROUP = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/;
export function validateGroups(groups: readonly string[]): string[] {
  if (groups.length > 100) throw bad('groups', 'an identity belongs to at most 100 groups');
  for (const group of groups) {
    if (!GROUP.test(group))
      throw bad('groups', `group "${group.slice(0, 80)}" must be 1–100 letters, digits, ".", "_", ":" or "-"`);
  }
  return [...new Set(groups)];
}

const DATA_CLASS = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export function validateDataClass(dataClass: string | null | undefined): string | null {
  if (dataClass === null || dataClass === undefined) return null;
  if (!DATA_CLASS.test(dataClass)) {
    throw bad('dataClass', `dataClass "${dataClass.slice(0, 80)}" must be 1–64 letters, digits, ".", "_" and "-"`);
  }
  return dataClass;
}

const SPACE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export interface SpaceInput {
  name: string;
  capacityBytes: number;
}

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const IPV4_LIKE = /^\d{1,3}(\.\d{1,3}){3}$/;

/**
 * An S3 bucket name as S3 itself accepts it: 3–63 lowercase letters, digits, "." and "-", starting and ending
 * with a letter or digit, no "..", not shaped like an IP address, none of the names S3 reserves.
 */
export function validateBucketName(name: string): string {
  const shown = name.slice(0, 80);
  if (!BUCKET_NAME.test(name)) {
    throw bad(
      'spaces',
      `bucket name "${shown}" must be 3–63 lowercase letters, digits, "." or "-", starting and ending with a letter or digit`,
    );
  }
  if (name.includes('..') || name.includes('.-') || name.includes('-.')) {
    throw bad('spaces', `bucket name "${shown}" must not have "..", ".-" or "-." in it`);
  }
  if (IPV4_LIKE.test(name)) throw bad('spaces', `bucket name "${shown}" must not look like an IP address`);
  if (/^(xn--|sthree-|amzn-s3-demo-)/.test(name) || /(-s3alias|--ol-s3|--x-s3|--table-s3)$/.test(name)) {
    throw bad('spaces', `bucket name "${shown}" uses a prefix or suffix that S3 reserves`);
  }
  return name;
}

/**
 * Backup spaces of one system: at least one, unique safe names, positive capacity. FILESYSTEM spaces become
 * directories under the root; S3 spaces are buckets and follow S3's bucket naming rules.
 */
export function validateSpaces(spaces: readonly SpaceInput[], kind: 'FILESYSTEM' | 'S3' = 'FILESYSTEM'): SpaceInput[] {
  if (spaces.length === 0) throw bad('spaces', 'a storage system needs at least one backup space');
  if (spaces.length > 100) throw bad('spaces', 'a storage system has at most 100 backup spaces');
  const seen = new Set<string>();
  for (const space of spaces) {
    if (!SPACE_NAME.test(space.name)) {
      throw bad(
        'spaces',
        `backup space name "${space.name.slice(0, 80)}" must be 1–63 letters, digits, ".", "_" or "-", starting with a letter or digit`,
      );
    }
    if (kind === 'S3') validateBucketName(space.name);
    if (seen.has(space.name)) throw bad('spaces', `backup space "${space.name}" is listed twice`);
    seen.add(space.name);
    if (!Number.isSafeInteger(space.capacityBytes) || space.capacityBytes <= 0) {
      throw bad(
        'spaces',
        `backup space "${space.name}" needs a capacity of at least 1 byte, not ${space.capacityBytes}`,
      );
    }
  }
  return spaces.map((space) => ({ name: space.name, capacityBytes: space.capacityBytes }));
}

/** FILESYSTEM config: `{ "root": "/abs/path" }`, normalised, with nothing else in it. */
export function validateFilesystemConfig(config: unknown): { root: string } {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw bad('config', 'a FILESYSTEM config is an object: { "root": "/absolute/path" }');
  }
  const { root, ...rest } = config as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length > 0)
    throw bad('config', `unknown FILESYSTEM config keys: ${extra.join(', ')}; only "root" is accepted`);
  if (typeof root !== 'string' || !root.startsWith('/') || root.length > 1024) {
    throw bad('config', 'config.root must be an absolute path (starting with "/")');
  }
  const segments = root.split('/').filter((segment) => segment !== '' && segment !== '.');
  if (segments.includes('..') || root.includes('\0')) throw bad('config', 'config.root must not contain ".." or NUL');
  if (segments.length === 0) throw bad('config', 'config.root must not be the filesystem root "/"');
  return { root: `/${segments.join('/')}` };
}

/** S3 connection settings; `secretAccessKey` is a secret: stored encrypted, never returned, never logged. */
export interface S3Config {
  /** http(s)://host[:port] of the S3 API (AWS, Ceph RGW, MinIO, ...). */
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Path-style addressing (`endpoint/bucket/key`), which most self-hosted stores need. */
  forcePathStyle: boolean;
}

const S3_CONFIG_KEYS = ['endpoint', 'region', 'accessKeyId', 'secretAccessKey', 'forcePathStyle'] as const;
const REGION = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
// Printable ASCII without spaces: what S3 access keys and secrets are made of.
const CREDENTIAL = /^[\x21-\x7e]{1,256}$/;

/**
 * S3 config: `{ endpoint, region, accessKeyId, secretAccessKey, forcePathStyle? }` and nothing else. The endpoint
 * is normalised to `scheme://host[:port]`; `forcePathStyle` defaults to false. Messages never repeat the secret.
 */
export function validateS3Config(config: unknown): S3Config {
  const shape = `{ "endpoint": "https://host[:port]", "region": "...", "accessKeyId": "...", "secretAccessKey": "...", "forcePathStyle": true|false }`;
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw bad('config', `an S3 config is an object: ${shape}`);
  }
  const fields = config as Record<string, unknown>;
  const extra = Object.keys(fields).filter((key) => !(S3_CONFIG_KEYS as readonly string[]).includes(key));
  if (extra.length > 0) {
    throw bad(
      'config',
      `unknown S3 config keys: ${extra.map((key) => key.slice(0, 40)).join(', ')}; accepted: ${S3_CONFIG_KEYS.join(', ')}`,
    );
  }
  const { endpoint, region, accessKeyId, secretAccessKey, forcePathStyle } = fields;
  if (typeof endpoint !== 'string' || endpoint.length > 2048) {
    throw bad('config.endpoint', 'config.endpoint must be the http:// or https:// URL of the S3 API');
  }
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw bad('config.endpoint', `config.endpoint "${endpoint.slice(0, 80)}" is not a URL; use https://host[:port]`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw bad('config.endpoint', `config.endpoint must use http:// or https://, not ${url.protocol}//`);
  }
  if (url.username !== '' || url.password !== '') {
    throw bad('config.endpoint', 'config.endpoint must not carry credentials; use accessKeyId and secretAccessKey');
  }
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') {
    throw bad('config.endpoint', 'config.endpoint is scheme://host[:port] only, without a path, query or fragment');
  }
  if (typeof region !== 'string' || !REGION.test(region)) {
    throw bad('config.region', 'config.region must be 1–64 letters, digits, ".", "_" or "-" (e.g. "us-east-1")');
  }
  if (typeof accessKeyId !== 'string' || !CREDENTIAL.test(accessKeyId)) {
    throw bad('config.accessKeyId', 'config.accessKeyId must be 1–256 printable characters without spaces');
  }
  if (typeof secretAccessKey !== 'string' || !CREDENTIAL.test(secretAccessKey)) {
    throw bad('config.secretAccessKey', 'config.secretAccessKey must be 1–256 printable characters without spaces');
  }
  if (forcePathStyle !== undefined && typeof forcePathStyle !== 'boolean') {
    throw bad('config.forcePathStyle', 'config.forcePathStyle must be true or false (default false)');
  }
  return {
    endpoint: `${url.protocol}//${url.host}`,
    region,
    accessKeyId,
    secretAccessKey,
    forcePathStyle: forcePathStyle ?? false,
  };
}

export interface PolicyTemplateInput {
  name: string;
  copies: number;
  minCopies?: number | null;
  primaryStorageSystemId: string;
  candidateStorageSystemIds: readonly string[];
  delaySeconds: number;
  ordering: 'CAPACITY' | 'FIXED';
  dataClass?: string | null;
  /** Absent or null: keep every version. */
  retention?: Partial<RetentionRules> | null;
}

/** Retention rules as a template version stores them, one column each (null: that rule is not used). */
export interface RetentionColumns {
  retentionKeepLast: number | null;
  retentionKeepWithinDays: number | null;
  retentionKeepDaily: number | null;
  retentionKeepWeekly: number | null;
  retentionKeepMonthly: number | null;
}

/** The rules a template version's columns hold; null when none is set (keep every version). */
export function retentionRulesOf(columns: RetentionColumns): RetentionRules | null {
  return validateRetentionRules({
    keepLast: columns.retentionKeepLast,
    keepWithinDays: columns.retentionKeepWithinDays,
    keepDaily: columns.retentionKeepDaily,
    keepWeekly: columns.retentionKeepWeekly,
    keepMonthly: columns.retentionKeepMonthly,
  });
}

export interface ValidTemplate extends Partial<RetentionColumns> {
  name: string;
  copies: number;
  minCopies: number;
  primaryStorageSystemId: string;
  candidateStorageSystemIds: string[];
  delaySeconds: number;
  ordering: 'CAPACITY' | 'FIXED';
  dataClass: string | null;
}

/**
 * A policy template's rules: copies from 1 to 1 + candidates, a minimum of verified copies from 1 to copies,
 * the primary not among the candidates, no candidate twice, a delay from 0 s to 30 days, and every storage
 * system one of the tenant's (`knownStorageIds`), else NOT_FOUND.
 */
export function validatePolicyTemplate(
  input: PolicyTemplateInput,
  knownStorageIds: ReadonlySet<string>,
): ValidTemplate {
  const name = validateName(input.name, 'name');
  const candidates = [...input.candidateStorageSystemIds];
  for (const id of [input.primaryStorageSystemId, ...candidates]) {
    if (!knownStorageIds.has(id))
      throw new DomainError('NOT_FOUND', `storage system ${id} does not exist in this tenant`, { id });
  }
  if (candidates.includes(input.primaryStorageSystemId)) {
    throw bad(
      'candidateStorageSystemIds',
      'the primary storage system cannot also be a candidate: a second copy there adds no protection',
    );
  }
  if (new Set(candidates).size !== candidates.length)
    throw bad('candidateStorageSystemIds', 'a candidate is listed twice');
  if (!Number.isInteger(input.copies) || input.copies < 1 || input.copies > 1 + candidates.length) {
    throw bad(
      'copies',
      `copies must be between 1 and ${1 + candidates.length} (the primary plus ${candidates.length} candidate${candidates.length === 1 ? '' : 's'}), not ${input.copies}`,
    );
  }
  const minCopies = input.minCopies ?? 1;
  if (!Number.isInteger(minCopies) || minCopies < 1 || minCopies > input.copies) {
    throw bad('minCopies', `minCopies must be between 1 and copies (${input.copies}), not ${minCopies}`);
  }
  if (!Number.isInteger(input.delaySeconds) || input.delaySeconds < 0 || input.delaySeconds > MAX_DELAY_SECONDS) {
    throw bad(
      'delaySeconds',
      `delaySeconds must be between 0 and ${MAX_DELAY_SECONDS} (30 days), not ${input.delaySeconds}`,
    );
  }
  return {
    name,
    copies: input.copies,
    minCopies,
    primaryStorageSystemId: input.primaryStorageSystemId,
    candidateStorageSystemIds: candidates,
    delaySeconds: input.delaySeconds,
    ordering: input.ordering,
    dataClass: validateDataClass(input.dataClass),
    ...retentionColumns(validateRetentionRules(input.retention)),
  };
}

function retentionColumns(rules: RetentionRules | null): RetentionColumns {
  return {
    retentionKeepLast: rules?.keepLast ?? null,
    retentionKeepWithinDays: rules?.keepWithinDays ?? null,
    retentionKeepDaily: rules?.keepDaily ?? null,
    retentionKeepWeekly: rules?.keepWeekly ?? null,
    retentionKeepMonthly: rules?.keepMonthly ?? null,
  };
}

export interface AssignmentInput {
  templateId: string;
  identityId?: string | null;
  group?: string | null;
  tenantDefault?: boolean | null;
  dataClass?: string | null;
}

/** Exactly one of identityId, group and tenantDefault says whom an assignment is for. */
export function validateAssignment(input: AssignmentInput): {
  identityId: string | null;
  group: string | null;
  tenantDefault: boolean;
  dataClass: string | null;
} {
  const targets = [input.identityId != null, input.group != null, input.tenantDefault === true].filter(Boolean).length;
  if (targets !== 1) {
    throw bad('identityId', 'an assignment names exactly one of identityId, group and tenantDefault: true');
  }
  const group = input.group == null ? null : (validateGroups([input.group])[0] ?? null);
  return {
    identityId: input.identityId ?? null,
    group,
    tenantDefault: input.tenantDefault === true,
    dataClass: validateDataClass(input.dataClass),
  };
}
