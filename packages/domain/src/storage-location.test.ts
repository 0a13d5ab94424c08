import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  filesystemRootRefusal,
  isPrivateAddressAllowed,
  isS3EndpointAllowed,
  isSameOrInside,
  isStrictlyInside,
  nonPublicRangeOf,
  normalizeAbsolutePath,
  parseIpAddress,
  parsePrivateEndpoints,
  pathsOverlap,
} from './storage-location.js';

// Few, similar names, so that paths often share a prefix or differ only in a name's end (/a/b against /a/bb).
const segment = fc.constantFrom('a', 'b', 'bb', 'b-', 'b.c', '...', 'x1');
const absolutePath = fc.array(segment, { maxLength: 5 }).map((segments) => `/${segments.join('/')}`);

/** The same path written another way: "./", doubled and trailing slashes, a detour through "x/..". */
const noisy = (value: string) =>
  fc.array(fc.constantFrom('./', '/', 'detour/../', ''), { minLength: 1, maxLength: 3 }).map((noise) => {
    const segments = value.split('/').filter((part) => part !== '');
    return `/${segments.map((part, index) => `${noise[index % noise.length]}${part}`).join('/')}/`;
  });

describe('path containment', () => {
  it('normalises lexically', () => {
    expect(normalizeAbsolutePath('/a//b/./c/../d/')).toBe('/a/b/d');
    expect(normalizeAbsolutePath('/../..')).toBe('/');
    expect(() => normalizeAbsolutePath('relative/x')).toThrow(/not an absolute path/);
  });

  it('treats a sibling with a longer name as outside, not inside', () => {
    expect(isSameOrInside('/data/storage-b', '/data/storage')).toBe(false);
    expect(isSameOrInside('/data/storage/b', '/data/storage')).toBe(true);
    expect(isSameOrInside('/data/storage', '/data/storage')).toBe(true);
    expect(isStrictlyInside('/data/storage', '/data/storage')).toBe(false);
    expect(isSameOrInside('/anything', '/')).toBe(true);
    expect(pathsOverlap('/data', '/data/storage/x')).toBe(true);
    expect(pathsOverlap('/data/a', '/data/b')).toBe(false);
  });

  it('gives the same answers however the paths are written', () => {
    fc.assert(
      fc.property(
        absolutePath.chain((a) => fc.tuple(fc.constant(a), noisy(a))),
        absolutePath.chain((b) => fc.tuple(fc.constant(b), noisy(b))),
        ([a, aNoisy], [b, bNoisy]) => {
          expect(normalizeAbsolutePath(aNoisy)).toBe(a);
          const inside = isSameOrInside(normalizeAbsolutePath(aNoisy), normalizeAbsolutePath(bNoisy));
          expect(inside).toBe(isSameOrInside(a, b));
          // Containment is segment-wise prefix order.
          const as = a.split('/').filter(Boolean);
          const bs = b.split('/').filter(Boolean);
          expect(inside).toBe(bs.length <= as.length && bs.every((part, index) => as[index] === part));
        },
      ),
    );
  });

  it('is an order: reflexive, antisymmetric, transitive; overlap is symmetric', () => {
    fc.assert(
      fc.property(absolutePath, absolutePath, absolutePath, (a, b, c) => {
        expect(isSameOrInside(a, a)).toBe(true);
        if (isSameOrInside(a, b) && isSameOrInside(b, a)) expect(a).toBe(b);
        if (isSameOrInside(a, b) && isSameOrInside(b, c)) expect(isSameOrInside(a, c)).toBe(true);
        expect(pathsOverlap(a, b)).toBe(pathsOverlap(b, a));
        expect(pathsOverlap(a, `${a === '/' ? '' : a}/child`)).toBe(true);
      }),
    );
  });
});

describe('where a FILESYSTEM root may be', () => {
  const defaults = {
    allowedRoots: [{ configured: '/srv/echelon/storage', real: '/srv/echelon/storage' }],
    platformDirs: ['/srv/echelon', '/srv/echelon/staging'],
  };
  const wide = {
    allowedRoots: [{ configured: '/srv', real: '/srv' }],
    platformDirs: ['/srv/echelon', '/var/spool/echelon-staging'],
  };

  it('accepts a directory inside an allowed root, also one carved out of the data directory', () => {
    expect(filesystemRootRefusal('/srv/echelon/storage/acme/ssd', defaults)).toBeUndefined();
    expect(filesystemRootRefusal('/srv/tenants/acme', wide)).toBeUndefined();
  });

  it('refuses a root outside the allowed roots, and names them', () => {
    expect(filesystemRootRefusal('/etc', defaults)).toBe(
      "config.root, with symbolic links followed, must be a directory inside one of the platform's storage roots (ECHELON_FILESYSTEM_ROOTS), not a root itself; choose a directory inside one of the platform's storage roots (ECHELON_FILESYSTEM_ROOTS): /srv/echelon/storage",
    );
    expect(filesystemRootRefusal('/srv/echelon/storage-b/x', defaults)).toMatch(/must be a directory inside/);
    // A whole allowed root would leave no room for anyone else.
    expect(filesystemRootRefusal('/srv/echelon/storage', defaults)).toMatch(/not a root itself/);
    expect(filesystemRootRefusal('/srv/x', { allowedRoots: [], platformDirs: [] })).toMatch(
      /ECHELON_FILESYSTEM_ROOTS is empty/,
    );
  });

  it("refuses the platform's own data: the data directory, what is in it, what contains it, staging", () => {
    expect(filesystemRootRefusal('/srv/echelon', wide)).toMatch(/must not contain the platform's own data/);
    expect(filesystemRootRefusal('/srv/echelon/pg/x', wide)).toMatch(/must not be inside the platform's own data/);
    expect(filesystemRootRefusal('/srv/echelon/storage/x', wide)).toMatch(/must not be inside/);
    expect(filesystemRootRefusal('/srv/echelon/staging/x', defaults)).toMatch(/must be a directory inside/);
    // Staging configured inside an allowed root is still the platform's.
    const stagingInStorage = { ...defaults, platformDirs: ['/srv/echelon', '/srv/echelon/storage/staging'] };
    expect(filesystemRootRefusal('/srv/echelon/storage/staging/x', stagingInStorage)).toMatch(/must not be inside/);
    expect(filesystemRootRefusal('/srv/echelon/storage/staging', stagingInStorage)).toMatch(/must not contain/);
  });

  it('never accepts a root that overlaps a platform directory, nor one outside every allowed root', () => {
    const dirs = fc.constantFrom('/d', '/d/storage', '/d/staging', '/d/pg', '/d/storage/t', '/other', '/other/x');
    fc.assert(
      fc.property(
        fc.uniqueArray(dirs, { minLength: 1, maxLength: 3 }),
        fc.uniqueArray(dirs, { maxLength: 2 }),
        absolutePath,
        (allowed, platform, tail) => {
          const platformDirs = ['/d', ...platform];
          const root = normalizeAbsolutePath(`${allowed[0]}${tail}`);
          const placement = { allowedRoots: allowed.map((dir) => ({ configured: dir, real: dir })), platformDirs };
          if (filesystemRootRefusal(root, placement) !== undefined) return;
          expect(allowed.some((dir) => isStrictlyInside(root, dir))).toBe(true);
          for (const dir of platformDirs) {
            expect(isSameOrInside(dir, root)).toBe(false);
            if (isSameOrInside(root, dir)) {
              expect(allowed.some((a) => isStrictlyInside(a, dir) && isStrictlyInside(root, a))).toBe(true);
            }
          }
        },
      ),
    );
  });
});

describe('address classification', () => {
  const rangeOf = (text: string) => {
    const address = parseIpAddress(text);
    if (address === undefined) throw new Error(`not an address: ${text}`);
    return nonPublicRangeOf(address);
  };

  it('parses IPv4, IPv6, brackets, zones and IPv4 tails; refuses what is not one', () => {
    expect(parseIpAddress('192.168.1.20')).toEqual({ family: 4, bytes: [192, 168, 1, 20] });
    expect(parseIpAddress('[::1]')).toEqual({ family: 6, bytes: [...Array(15).fill(0), 1] });
    expect(parseIpAddress('fe80::1%eth0')?.bytes.slice(0, 2)).toEqual([0xfe, 0x80]);
    expect(parseIpAddress('::ffff:127.0.0.1')).toEqual({ family: 4, bytes: [127, 0, 0, 1] });
    expect(parseIpAddress('::ffff:7f00:1')).toEqual({ family: 4, bytes: [127, 0, 0, 1] });
    for (const text of ['localhost', '1.2.3', '1.2.3.256', '01.2.3.4', '1::2::3', ':::', '1:2:3:4:5:6:7:8:9', '']) {
      expect(parseIpAddress(text), text).toBeUndefined();
    }
    expect(parseIpAddress('1.2.3.4::')).toBeUndefined();
  });

  it.each([
    ['0.0.0.0', /this network/],
    ['0.1.2.3', /this network/],
    ['10.1.2.3', /private/],
    ['100.64.0.1', /carrier-grade NAT/],
    ['100.100.100.200', /carrier-grade NAT/],
    ['127.0.0.1', /loopback/],
    ['127.255.255.254', /loopback/],
    ['169.254.169.254', /link-local/],
    ['172.16.0.1', /private/],
    ['172.31.255.255', /private/],
    ['192.0.0.192', /IETF/],
    ['192.168.0.1', /private/],
    ['198.18.0.1', /benchmarking/],
    ['224.0.0.1', /multicast/],
    ['255.255.255.255', /reserved/],
    ['::1', /loopback/],
    ['::', /unspecified/],
    ['::127.0.0.1', /not global unicast/],
    ['::ffff:10.0.0.1', /private/],
    ['::ffff:169.254.169.254', /link-local/],
    ['fc00::1', /unique local/],
    ['fd00:ec2::254', /unique local/],
    ['fe80::1', /link-local/],
    ['febf::1', /link-local/],
    ['ff02::1', /multicast/],
    ['64:ff9b::7f00:1', /loopback/],
    ['2002:a9fe:a9fe::1', /link-local/],
    ['2001::1', /IETF/],
    ['2001:db8::1', /documentation/],
  ])('%s is not public: %s', (text, name) => {
    expect(rangeOf(text)).toMatch(name);
  });

  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '100.63.255.255',
    '100.128.0.0',
    '172.15.255.255',
    '172.32.0.0',
    '169.253.255.255',
    '2606:4700::1111',
    '64:ff9b::808:808',
    '2002:808:808::1',
    '::ffff:8.8.8.8',
  ])('%s is public', (text) => {
    expect(rangeOf(text)).toBeUndefined();
  });

  it('judges an IPv4-mapped IPv6 address as its IPv4 address', () => {
    const octet = fc.integer({ min: 0, max: 255 });
    fc.assert(
      fc.property(octet, octet, octet, octet, (a, b, c, d) => {
        const v4 = parseIpAddress(`${a}.${b}.${c}.${d}`);
        const hex = (high: number, low: number) => ((high << 8) | low).toString(16);
        const mapped = parseIpAddress(`::ffff:${hex(a, b)}:${hex(c, d)}`);
        expect(mapped).toEqual(v4);
        if (v4 !== undefined) expect(nonPublicRangeOf(v4)).toBe(nonPublicRangeOf(mapped ?? v4));
      }),
    );
  });
});

describe('the allow-list of private S3 endpoints', () => {
  const local = { host: '127.0.0.1', port: 9000 };
  const address = (text: string) => {
    const parsed = parseIpAddress(text);
    if (parsed === undefined) throw new Error(text);
    return parsed;
  };

  it('matches *, ranges, addresses with or without a port, and host names', () => {
    const rules = parsePrivateEndpoints(['10.0.0.0/8', '127.0.0.1:9000', '[::1]', 'minio.internal', 'ceph.lan:7480']);
    expect(isPrivateAddressAllowed(rules, { host: 'store', port: 443 }, address('10.9.8.7'))).toBe(true);
    expect(isPrivateAddressAllowed(rules, local, address('127.0.0.1'))).toBe(true);
    expect(isPrivateAddressAllowed(rules, { host: 'localhost', port: 9000 }, address('127.0.0.1'))).toBe(true);
    expect(isPrivateAddressAllowed(rules, { host: '127.0.0.1', port: 9001 }, address('127.0.0.1'))).toBe(false);
    expect(isPrivateAddressAllowed(rules, { host: '[::1]', port: 1 }, address('::1'))).toBe(true);
    expect(isPrivateAddressAllowed(rules, { host: 'MINIO.internal.', port: 80 }, address('192.168.1.5'))).toBe(true);
    expect(isPrivateAddressAllowed(rules, { host: 'ceph.lan', port: 7480 }, address('192.168.1.6'))).toBe(true);
    expect(isPrivateAddressAllowed(rules, { host: 'ceph.lan', port: 80 }, address('192.168.1.6'))).toBe(false);
    expect(isPrivateAddressAllowed(rules, { host: 'other', port: 80 }, address('169.254.169.254'))).toBe(false);
    expect(isPrivateAddressAllowed(parsePrivateEndpoints(['*']), local, address('169.254.169.254'))).toBe(true);
    expect(isPrivateAddressAllowed(parsePrivateEndpoints([]), local, address('127.0.0.1'))).toBe(false);
    // An IPv4 entry covers the IPv4-mapped spelling of its address.
    expect(isPrivateAddressAllowed(parsePrivateEndpoints(['127.0.0.1']), local, address('::ffff:127.0.0.1'))).toBe(
      true,
    );
  });

  it('refuses a setting it cannot read', () => {
    for (const entry of ['10.0.0.0/33', 'host:0', 'host:70000', 'bad host', '[nope]', 'a..b', '1.2.3.4/x']) {
      expect(() => parsePrivateEndpoints([entry]), entry).toThrow(/ECHELON_S3_PRIVATE_ENDPOINTS/);
    }
  });

  it('allows an endpoint only when every address it resolves to is public or allowed', () => {
    const none = parsePrivateEndpoints([]);
    const target = { host: 'store.example', port: 443 };
    expect(isS3EndpointAllowed(none, target, ['8.8.8.8', '2606:4700::1111'])).toBe(true);
    expect(isS3EndpointAllowed(none, target, ['8.8.8.8', '127.0.0.1'])).toBe(false);
    expect(isS3EndpointAllowed(none, target, [])).toBe(false);
    expect(isS3EndpointAllowed(none, target, ['not-an-address'])).toBe(false);
    expect(isS3EndpointAllowed(parsePrivateEndpoints(['127.0.0.0/8']), target, ['8.8.8.8', '127.0.0.1'])).toBe(true);
  });
});
