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
});
