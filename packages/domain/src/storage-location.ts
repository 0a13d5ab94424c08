/**
 * Where tenants may put their storage: FILESYSTEM roots inside the platform's allow-list and outside its own data,
 * and S3 endpoints on public addresses unless the platform allows them. Pure: the callers resolve symbolic links
 * and host names, and pass the results in.
 */

// ── paths ─────────────────────────────────────────────────────────────────────────────────────────────────────

/**
 * An absolute POSIX path with ".", "..", repeated and trailing slashes resolved lexically. Symbolic links are not
 * followed: the caller resolves them first where they matter.
 */
export function normalizeAbsolutePath(value: string): string {
  if (!value.startsWith('/')) throw new Error(`"${value.slice(0, 80)}" is not an absolute path`);
  const segments: string[] = [];
  for (const segment of value.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  return `/${segments.join('/')}`;
}

/** `inner` is `outer` or a path below it. Both are normalised absolute paths. */
export function isSameOrInside(inner: string, outer: string): boolean {
  // A plain prefix test would put /data/storage-b inside /data/storage; the separator is part of the test.
  return outer === '/' || inner === outer || inner.startsWith(`${outer}/`);
}

/** `inner` is below `outer` and not `outer` itself. */
export const isStrictlyInside = (inner: string, outer: string): boolean =>
  inner !== outer && isSameOrInside(inner, outer);

/** Two directory trees share a directory: they are the same, or one lies inside the other. */
export const pathsOverlap = (a: string, b: string): boolean => isSameOrInside(a, b) || isSameOrInside(b, a);

export interface FilesystemPlacement {
  /** ECHELON_FILESYSTEM_ROOTS: `configured` as the operator wrote it (shown to tenants), `real` with links resolved. */
  allowedRoots: readonly { configured: string; real: string }[];
  /** The platform's own directories (data directory, staging area), with links resolved. */
  platformDirs: readonly string[];
}

/**
 * Why a FILESYSTEM root may not be used, or undefined when it may. `realRoot` is the requested root with every
 * symbolic link resolved, so a link cannot lead out of the allowed roots. A root must lie strictly inside one of
 * the allowed roots (a system that took a whole allowed root would leave no room for any other); it must neither
 * contain the platform's own directories nor lie inside them, unless it lies inside an allowed root that was
 * carved out of them (the default `<data dir>/storage`). Overlap with other registered systems is checked
 * against the database, across tenants, by the caller.
 */
export function filesystemRootRefusal(realRoot: string, placement: FilesystemPlacement): string | undefined {
  const roots = placement.allowedRoots.map((root) => root.configured).join(', ');
  const choose =
    placement.allowedRoots.length === 0
      ? 'the platform allows no FILESYSTEM storage (ECHELON_FILESYSTEM_ROOTS is empty); ask the platform operator'
      : `choose a directory inside one of the platform's storage roots (ECHELON_FILESYSTEM_ROOTS): ${roots}`;
  const holder = placement.allowedRoots.find((root) => isStrictlyInside(realRoot, root.real));
  if (holder === undefined) {
    return `config.root, with symbolic links followed, must be a directory inside one of the platform's storage roots (ECHELON_FILESYSTEM_ROOTS), not a root itself; ${choose}`;
  }
  for (const dir of placement.platformDirs) {
    if (isSameOrInside(dir, realRoot)) {
      return `config.root must not contain the platform's own data (its data directory or staging area); ${choose}`;
    }
    const carvedOut = placement.allowedRoots.some(
      (root) => isStrictlyInside(root.real, dir) && isStrictlyInside(realRoot, root.real),
    );
    if (isSameOrInside(realRoot, dir) && !carvedOut) {
      return `config.root must not be inside the platform's own data (its data directory or staging area); ${choose}`;
    }
  }
  return undefined;
}

// ── addresses ───────────────────────────────────────────────────────────────────────────────────────────────

/** An IP address as bytes: 4 for IPv4, 16 for IPv6. */
export interface IpAddress {
  family: 4 | 6;
  bytes: readonly number[];
}

function parseIpv4(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const bytes: number[] = [];
  for (const part of parts) {
    // Only the canonical dotted quad: "010" or "0x7f" are spelled differently by different resolvers.
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return undefined;
    const value = Number(part);
    if (value > 255) return undefined;
    bytes.push(value);
  }
  return bytes;
}

function parseIpv6(text: string): number[] | undefined {
  if (text.length > 45 || !/^[0-9a-fA-F:.]+$/.test(text)) return undefined;
  const halves = text.split('::');
  // An IPv4 tail can only end the address.
  if (halves.length > 2 || (halves.length === 2 && (halves[0] ?? '').includes('.'))) return undefined;
  const groupsOf = (half: string): number[] | undefined => {
    if (half === '') return [];
    const groups: number[] = [];
    const pieces = half.split(':');
    for (const [index, piece] of pieces.entries()) {
      if (piece.includes('.')) {
        // An IPv4 tail (::ffff:127.0.0.1) is the last 32 bits.
        if (index !== pieces.length - 1) return undefined;
        const v4 = parseIpv4(piece);
        if (v4 === undefined) return undefined;
        groups.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(piece)) return undefined;
        groups.push(Number.parseInt(piece, 16));
      }
    }
    return groups;
  };
  const head = groupsOf(halves[0] ?? '');
  const tail = halves.length === 2 ? groupsOf(halves[1] ?? '') : [];
  if (head === undefined || tail === undefined) return undefined;
  let groups: number[];
  if (halves.length === 2) {
    const missing = 8 - head.length - tail.length;
    if (missing < 1) return undefined;
    groups = [...head, ...Array<number>(missing).fill(0), ...tail];
  } else {
    groups = head;
  }
  if (groups.length !== 8) return undefined;
  return groups.flatMap((group) => [group >> 8, group & 0xff]);
}

/**
 * An IPv4 or IPv6 literal (brackets and an IPv6 zone such as `%eth0` allowed), or undefined when `text` is not
 * one. An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is its IPv4 address: that is where a connection goes.
 */
export function parseIpAddress(text: string): IpAddress | undefined {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const v4 = parseIpv4(bare);
  if (v4 !== undefined) return { family: 4, bytes: v4 };
  const v6 = parseIpv6(bare.replace(/%[0-9A-Za-z._~-]+$/, ''));
  if (v6 === undefined) return undefined;
  const mapped = v6.slice(0, 10).every((byte) => byte === 0) && v6[10] === 0xff && v6[11] === 0xff;
  return mapped ? { family: 4, bytes: v6.slice(12) } : { family: 6, bytes: v6 };
}

/** `address` lies in `network`/`prefixLength` (same family). */
function inPrefix(address: IpAddress, network: IpAddress, prefixLength: number): boolean {
  if (address.family !== network.family) return false;
  for (let bit = 0; bit < prefixLength; bit++) {
    const byte = bit >> 3;
    const mask = 0x80 >> (bit & 7);
    if (((address.bytes[byte] ?? 0) & mask) !== ((network.bytes[byte] ?? 0) & mask)) return false;
  }
  return true;
}

interface Range {
  network: IpAddress;
  prefixLength: number;
  name: string;
}

const range = (cidr: string, name: string): Range => {
  const [text = '', length = ''] = cidr.split('/');
  const network = parseIpAddress(text);
  if (network === undefined) throw new Error(`bad range ${cidr}`);
  return { network, prefixLength: Number(length), name };
};

/** IPv4 ranges that are not the public internet (IANA special-purpose registry; metadata services sit in them). */
const IPV4_NON_PUBLIC: readonly Range[] = [
  range('0.0.0.0/8', '"this network" (0.0.0.0/8)'),
  range('10.0.0.0/8', 'private (10.0.0.0/8)'),
  range('100.64.0.0/10', 'carrier-grade NAT (100.64.0.0/10)'),
  range('127.0.0.0/8', 'loopback (127.0.0.0/8)'),
  range('169.254.0.0/16', 'link-local (169.254.0.0/16, cloud metadata)'),
  range('172.16.0.0/12', 'private (172.16.0.0/12)'),
  range('192.0.0.0/24', 'IETF protocol assignments (192.0.0.0/24)'),
  range('192.0.2.0/24', 'documentation (192.0.2.0/24)'),
  range('192.88.99.0/24', '6to4 relay anycast (192.88.99.0/24)'),
  range('192.168.0.0/16', 'private (192.168.0.0/16)'),
  range('198.18.0.0/15', 'benchmarking (198.18.0.0/15)'),
  range('198.51.100.0/24', 'documentation (198.51.100.0/24)'),
  range('203.0.113.0/24', 'documentation (203.0.113.0/24)'),
  range('224.0.0.0/4', 'multicast (224.0.0.0/4)'),
  range('240.0.0.0/4', 'reserved (240.0.0.0/4, broadcast)'),
];

/** IPv6 ranges inside global unicast (2000::/3) that are not the public internet. */
const IPV6_NON_PUBLIC: readonly Range[] = [
  range('2001::/23', 'IETF protocol assignments (2001::/23, Teredo)'),
  range('2001:db8::/32', 'documentation (2001:db8::/32)'),
  range('3fff::/20', 'documentation (3fff::/20)'),
];

const GLOBAL_UNICAST_V6 = range('2000::/3', 'global unicast');
const NAT64 = range('64:ff9b::/96', 'NAT64');
const SIX_TO_FOUR = range('2002::/16', '6to4');

/**
 * Which non-public range `address` is in ("loopback (127.0.0.0/8)", "unique local (fc00::/7)", ...), or
 * undefined for a public address. IPv6 addresses that carry an IPv4 address (NAT64, 6to4) are judged by it;
 * outside global unicast (2000::/3) every IPv6 address is non-public: loopback ::1, unspecified ::, the deprecated
 * IPv4-compatible ::/96, unique local fc00::/7 (cloud metadata fd00:ec2::254), link-local fe80::/10, multicast.
 */
export function nonPublicRangeOf(address: IpAddress): string | undefined {
  if (address.family === 4) return IPV4_NON_PUBLIC.find((r) => inPrefix(address, r.network, r.prefixLength))?.name;
  if (inPrefix(address, NAT64.network, NAT64.prefixLength)) {
    return nonPublicRangeOf({ family: 4, bytes: address.bytes.slice(12) });
  }
  if (inPrefix(address, SIX_TO_FOUR.network, SIX_TO_FOUR.prefixLength)) {
    return nonPublicRangeOf({ family: 4, bytes: address.bytes.slice(2, 6) });
  }
  if (!inPrefix(address, GLOBAL_UNICAST_V6.network, GLOBAL_UNICAST_V6.prefixLength)) {
    const first = address.bytes[0] ?? 0;
    const second = address.bytes[1] ?? 0;
    if (address.bytes.every((byte, index) => byte === (index === 15 ? 1 : 0))) return 'loopback (::1)';
    if (address.bytes.every((byte) => byte === 0)) return 'unspecified (::)';
    if ((first & 0xfe) === 0xfc) return 'unique local (fc00::/7)';
    if (first === 0xfe && (second & 0xc0) === 0x80) return 'link-local (fe80::/10)';
    if (first === 0xff) return 'multicast (ff00::/8)';
    return 'not global unicast (outside 2000::/3)';
  }
  return IPV6_NON_PUBLIC.find((r) => inPrefix(address, r.network, r.prefixLength))?.name;
}

// ── the platform's allow-list of private S3 endpoints ──────────────────────────────────────────────────────────

/** One ECHELON_S3_PRIVATE_ENDPOINTS entry, parsed. */
export type PrivateEndpointRule =
  | { kind: 'any' }
  | { kind: 'range'; network: IpAddress; prefixLength: number }
  | { kind: 'address'; address: IpAddress; port: number | undefined }
  | { kind: 'host'; host: string; port: number | undefined };

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

const normalHost = (host: string): string => host.toLowerCase().replace(/\.$/, '');

function parsePort(text: string, entry: string): number {
  const port = Number(text);
  if (!/^[0-9]{1,5}$/.test(text) || port < 1 || port > 65535) {
    throw new Error(`ECHELON_S3_PRIVATE_ENDPOINTS: "${entry}" has no valid port (1–65535)`);
  }
  return port;
}

/**
 * Parses ECHELON_S3_PRIVATE_ENDPOINTS: `*` (any endpoint), a CIDR range (`10.0.0.0/8`, `fd00::/8`), an address or
 * host name with an optional port (`127.0.0.1`, `[::1]:9000`, `minio.internal:9000`). An address or range allows
 * the endpoints that resolve to it; a host name allows that endpoint whatever it resolves to. Throws on an entry
 * that is none of these, so a typo in the operator's setting does not pass unnoticed.
 */
export function parsePrivateEndpoints(entries: readonly string[]): PrivateEndpointRule[] {
  return entries.map((raw): PrivateEndpointRule => {
    const entry = raw.trim();
    if (entry === '*') return { kind: 'any' };
    const slash = entry.indexOf('/');
    if (slash >= 0) {
      const network = parseIpAddress(entry.slice(0, slash));
      const lengthText = entry.slice(slash + 1);
      const prefixLength = Number(lengthText);
      const max = network?.family === 4 ? 32 : 128;
      if (network === undefined || !/^[0-9]{1,3}$/.test(lengthText) || prefixLength > max) {
        throw new Error(`ECHELON_S3_PRIVATE_ENDPOINTS: "${entry}" is not a valid CIDR range`);
      }
      return { kind: 'range', network, prefixLength };
    }
    const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(entry);
    if (bracketed !== null) {
      const address = parseIpAddress(bracketed[1] ?? '');
      if (address === undefined) throw new Error(`ECHELON_S3_PRIVATE_ENDPOINTS: "${entry}" is not an IPv6 address`);
      const port = bracketed[2] === undefined ? undefined : parsePort(bracketed[2], entry);
      return { kind: 'address', address, port };
    }
    const whole = parseIpAddress(entry);
    if (whole !== undefined) return { kind: 'address', address: whole, port: undefined };
    const colon = entry.lastIndexOf(':');
    const host = colon >= 0 ? entry.slice(0, colon) : entry;
    const port = colon >= 0 ? parsePort(entry.slice(colon + 1), entry) : undefined;
    const address = parseIpAddress(host);
    if (address !== undefined) return { kind: 'address', address, port };
    if (!HOST_NAME.test(normalHost(host))) {
      throw new Error(
        `ECHELON_S3_PRIVATE_ENDPOINTS: "${entry}" is not *, a CIDR range, an address or a host name (with an optional :port)`,
      );
    }
    return { kind: 'host', host: normalHost(host), port };
  });
}

const sameAddress = (a: IpAddress, b: IpAddress): boolean =>
  a.family === b.family && a.bytes.every((byte, index) => byte === b.bytes[index]);

/** The endpoint an S3 system names: its host (a name or an address literal) and port. */
export interface S3EndpointTarget {
  host: string;
  port: number;
}

/** Whether the platform allows `endpoint` to reach the non-public `address`. */
export function isPrivateAddressAllowed(
  rules: readonly PrivateEndpointRule[],
  endpoint: S3EndpointTarget,
  address: IpAddress,
): boolean {
  const host = normalHost(endpoint.host.replace(/^\[(.*)\]$/, '$1'));
  const allows = (rule: PrivateEndpointRule): boolean => {
    switch (rule.kind) {
      case 'any':
        return true;
      case 'range':
        return inPrefix(address, rule.network, rule.prefixLength);
      case 'address':
        return sameAddress(rule.address, address) && (rule.port === undefined || rule.port === endpoint.port);
      case 'host':
        return rule.host === host && (rule.port === undefined || rule.port === endpoint.port);
    }
  };
  return rules.some(allows);
}

/**
 * The one refusal for an S3 endpoint that may not be used. It is the same whether the name does not resolve or
 * resolves to an internal address, and it never says what is listening there or where the name points.
 */
export const S3_ENDPOINT_REFUSAL =
  'S3 endpoints must resolve to public internet addresses only, and this one does not: it does not resolve, or it resolves to a loopback, private, link-local or other internal address. Use the public address of the store, or ask the platform operator to allow this endpoint (ECHELON_S3_PRIVATE_ENDPOINTS)';

/**
 * Whether `endpoint`, resolved to `addresses`, may be used: every address must be public or allowed by `rules`.
 * One forbidden address is enough to refuse, since a client may connect to any of them. No address at all (a
 * name that does not resolve) is refused too.
 */
export function isS3EndpointAllowed(
  rules: readonly PrivateEndpointRule[],
  endpoint: S3EndpointTarget,
  addresses: readonly string[],
): boolean {
  if (addresses.length === 0) return false;
  return addresses.every((text) => {
    const address = parseIpAddress(text);
    if (address === undefined) return false;
    return nonPublicRangeOf(address) === undefined || isPrivateAddressAllowed(rules, endpoint, address);
  });
}

/** The refusal of a FILESYSTEM root that another system (of any tenant) already uses: it names neither. */
export const FILESYSTEM_ROOT_TAKEN =
  'config.root overlaps a storage system already registered on this platform (it is the same directory, inside it, or contains it); choose a directory of its own';
