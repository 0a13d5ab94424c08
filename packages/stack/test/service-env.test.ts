import { describe, expect, it } from 'vitest';
import { probeHost, serviceEnv } from '../src/stack.js';

/** The environment the launcher builds for its children, with every secret of the platform set. */
const STACK_ENV: NodeJS.ProcessEnv = {
  PATH: '/usr/bin:/bin',
  HOME: '/home/operator',
  DATABASE_URL: 'postgresql://echelon_app:app-secret@127.0.0.1:5433/echelon',
  ECHELON_APP_DATABASE_URL: 'postgresql://echelon_app:app-secret@127.0.0.1:5433/echelon',
  ECHELON_SECRET_KEY: 'a'.repeat(64),
  ECHELON_BOOTSTRAP_TOKEN: 'bootstrap-secret',
  ECHELON_BIND_HOST: '127.0.0.1',
  ECHELON_PUBLIC_API_URL: 'http://localhost:4000',
  TEMPORAL_ADDRESS: '127.0.0.1:7233',
};

const SECRETS = ['DATABASE_URL', 'ECHELON_APP_DATABASE_URL', 'ECHELON_SECRET_KEY', 'ECHELON_BOOTSTRAP_TOKEN'];
const secretsOf = (env: NodeJS.ProcessEnv) => SECRETS.filter((name) => env[name] !== undefined).sort();

describe('serviceEnv: each process gets only the secrets it uses', () => {
  it('gives the API its database, the storage key and the bootstrap token', () => {
    expect(secretsOf(serviceEnv('api', STACK_ENV, 'dev'))).toEqual([
      'DATABASE_URL',
      'ECHELON_BOOTSTRAP_TOKEN',
      'ECHELON_SECRET_KEY',
    ]);
  });

  it('gives the worker its database and the storage key, not the bootstrap token', () => {
    expect(secretsOf(serviceEnv('worker', STACK_ENV, 'dev'))).toEqual(['DATABASE_URL', 'ECHELON_SECRET_KEY']);
  });

  it('gives the web UI no secret at all, but the public API URL and the bind host', () => {
    const env = serviceEnv('web', STACK_ENV, 'dev');
    expect(secretsOf(env)).toEqual([]);
    expect(env.ECHELON_PUBLIC_API_URL).toBe('http://localhost:4000');
    expect(env.ECHELON_BIND_HOST).toBe('127.0.0.1');
    expect(env.PATH).toBe('/usr/bin:/bin');
  });

  it('leaves the stack environment it was given unchanged', () => {
    const before = { ...STACK_ENV };
    serviceEnv('web', STACK_ENV, 'prod');
    expect(STACK_ENV).toEqual(before);
  });
});

describe('serviceEnv: NODE_ENV', () => {
  it('runs the API and the worker in production when the launcher names no NODE_ENV (npm start)', () => {
    expect(serviceEnv('api', STACK_ENV, 'dev').NODE_ENV).toBe('production');
    expect(serviceEnv('worker', STACK_ENV, 'dev').NODE_ENV).toBe('production');
  });

  it('keeps development and test, the explicit choices of a developer and of the test suites', () => {
    for (const nodeEnv of ['development', 'test']) {
      expect(serviceEnv('api', { ...STACK_ENV, NODE_ENV: nodeEnv }, 'dev').NODE_ENV).toBe(nodeEnv);
      expect(serviceEnv('worker', { ...STACK_ENV, NODE_ENV: nodeEnv }, 'dev').NODE_ENV).toBe(nodeEnv);
    }
  });

  it('turns anything else into production', () => {
    expect(serviceEnv('api', { ...STACK_ENV, NODE_ENV: 'production' }, 'dev').NODE_ENV).toBe('production');
    expect(serviceEnv('api', { ...STACK_ENV, NODE_ENV: 'staging' }, 'dev').NODE_ENV).toBe('production');
  });

  it('runs the web UI as its mode needs: next dev in development, next start in production', () => {
    expect(serviceEnv('web', STACK_ENV, 'dev').NODE_ENV).toBe('development');
    expect(serviceEnv('web', STACK_ENV, 'prod').NODE_ENV).toBe('production');
    expect(serviceEnv('web', { ...STACK_ENV, NODE_ENV: 'production' }, 'dev').NODE_ENV).toBe('development');
  });
});

describe('probeHost', () => {
  it('probes the bound address, or loopback when every interface is bound', () => {
    expect(probeHost('127.0.0.1')).toBe('127.0.0.1');
    expect(probeHost('192.0.2.7')).toBe('192.0.2.7');
    expect(probeHost('0.0.0.0')).toBe('127.0.0.1');
    expect(probeHost('::')).toBe('127.0.0.1');
  });
});
