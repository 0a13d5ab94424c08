import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, REPO_ROOT } from './index.js';

describe('loadConfig', () => {
  it('defaults to the embedded stack under .data', () => {
    const config = loadConfig({});
    expect(config.dataDir).toBe(path.join(REPO_ROOT, '.data'));
    expect(config.databaseUrl).toBeUndefined();
    expect(config.temporalAddress).toBeUndefined();
    expect(config.apiPort).toBe(4000);
    expect(config.webPort).toBe(3000);
    expect(config.temporalUiPort).toBe(8233);
    expect(config.stagingDir).toBe(path.join(REPO_ROOT, '.data', 'staging'));
  });

  it('uses external services when their addresses are set, and treats blank as unset', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgresql://u:p@db:5432/e',
      TEMPORAL_ADDRESS: 'temporal:7233',
      ECHELON_BOOTSTRAP_TOKEN: '  ',
    });
    expect(config.databaseUrl).toBe('postgresql://u:p@db:5432/e');
    expect(config.temporalAddress).toBe('temporal:7233');
    expect(config.bootstrapToken).toBeUndefined();
  });

  it('says which variable is wrong', () => {
    expect(() => loadConfig({ ECHELON_API_PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadConfig({ ECHELON_API_PORT: '70000' })).toThrow(/ECHELON_API_PORT/);
  });

  it('reads the secret key as hex or base64 and refuses anything but 32 bytes without echoing it', () => {
    const bytes = Buffer.from(Array.from({ length: 32 }, (_, index) => index * 7));
    expect(loadConfig({}).secretKey).toBeUndefined();
    expect(loadConfig({ ECHELON_SECRET_KEY: ' ' }).secretKey).toBeUndefined();
    expect(loadConfig({ ECHELON_SECRET_KEY: bytes.toString('hex') }).secretKey).toEqual(bytes);
    expect(loadConfig({ ECHELON_SECRET_KEY: bytes.toString('base64') }).secretKey).toEqual(bytes);
    expect(loadConfig({ ECHELON_SECRET_KEY: bytes.toString('base64url') }).secretKey).toEqual(bytes);
    for (const wrong of ['short-and-secret', bytes.subarray(0, 16).toString('hex'), `${bytes.toString('hex')}00`]) {
      let message = '';
      try {
        loadConfig({ ECHELON_SECRET_KEY: wrong });
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        message = (error as Error).message;
      }
      expect(message).toMatch(/ECHELON_SECRET_KEY: must be 32 bytes/);
      expect(message).not.toContain(wrong);
    }
  });
});

describe('scrub settings', () => {
  it('default to 32 MiB/s once a day, read both, and refuse a rate of 0 or a negative interval', () => {
    expect(loadConfig({}).scrubBytesPerSecond).toBe(32 * 1024 * 1024);
    expect(loadConfig({}).scrubIntervalSeconds).toBe(86_400);
    const config = loadConfig({ ECHELON_SCRUB_BYTES_PER_SECOND: '1048576', ECHELON_SCRUB_INTERVAL_SECONDS: '0' });
    expect(config.scrubBytesPerSecond).toBe(1_048_576);
    expect(config.scrubIntervalSeconds).toBe(0);
    expect(() => loadConfig({ ECHELON_SCRUB_BYTES_PER_SECOND: '0' })).toThrow(/ECHELON_SCRUB_BYTES_PER_SECOND/);
    expect(() => loadConfig({ ECHELON_SCRUB_INTERVAL_SECONDS: '-5' })).toThrow(/ECHELON_SCRUB_INTERVAL_SECONDS/);
  });
});

describe('hardening settings', () => {
  it('default to this machine only, no forwarded headers, storage under the data directory', () => {
    const config = loadConfig({ ECHELON_DATA_DIR: '/srv/echelon' });
    expect(config.bindHost).toBe('127.0.0.1');
    expect(config.trustProxy).toBe(false);
    expect(config.isProduction).toBe(false);
    expect(config.introspection).toBe('on');
    expect(config.filesystemRoots).toEqual(['/srv/echelon/storage']);
    expect(config.s3PrivateEndpoints).toEqual([]);
  });

  it('turn introspection off in production unless configured, and read lists and flags', () => {
    expect(loadConfig({ NODE_ENV: 'production' }).introspection).toBe('off');
    expect(loadConfig({ NODE_ENV: 'production', ECHELON_INTROSPECTION: 'authenticated' }).introspection).toBe(
      'authenticated',
    );
    const config = loadConfig({
      ECHELON_FILESYSTEM_ROOTS: '/mnt/a, /mnt/b/',
      ECHELON_S3_PRIVATE_ENDPOINTS: '127.0.0.1:9000,10.0.0.0/8',
      ECHELON_TRUST_PROXY: 'true',
    });
    expect(config.filesystemRoots).toEqual(['/mnt/a', '/mnt/b']);
    expect(config.s3PrivateEndpoints).toEqual(['127.0.0.1:9000', '10.0.0.0/8']);
    expect(config.trustProxy).toBe(true);
  });

  it('refuse a relative filesystem root and a flag that is not a boolean, naming the variable', () => {
    expect(() => loadConfig({ ECHELON_FILESYSTEM_ROOTS: 'storage' })).toThrow(/ECHELON_FILESYSTEM_ROOTS/);
    expect(() => loadConfig({ ECHELON_TRUST_PROXY: 'maybe' })).toThrow(/ECHELON_TRUST_PROXY/);
    expect(() => loadConfig({ ECHELON_INTROSPECTION: 'sometimes' })).toThrow(/ECHELON_INTROSPECTION/);
  });
});
