/**
 * How global setup hands the running stack to the specs: Playwright copies the environment of the main process
 * (where global setup runs) into every worker, so these variables are the one channel between them.
 */
export const E2E_ENV = {
  apiUrl: 'ECHELON_E2E_API_URL',
  webUrl: 'ECHELON_E2E_WEB_URL',
  databaseUrl: 'ECHELON_E2E_DATABASE_URL',
  dataDir: 'ECHELON_E2E_DATA_DIR',
} as const;

export interface E2eStack {
  apiUrl: string;
  webUrl: string;
  databaseUrl: string;
  dataDir: string;
}

/** The stack global setup started; throws if a spec runs without it (e.g. a config that skipped global setup). */
export function readE2eStack(env: NodeJS.ProcessEnv = process.env): E2eStack {
  const read = (name: string): string => {
    const value = env[name];
    if (!value) {
      throw new Error(
        `${name} is not set: the e2e stack is started by e2e/global-setup.ts; run the specs with ` +
          '`npm test --workspace @echelon/e2e` (or `npx playwright test` in e2e/), not on their own.',
      );
    }
    return value;
  };
  return {
    apiUrl: read(E2E_ENV.apiUrl),
    webUrl: read(E2E_ENV.webUrl),
    databaseUrl: read(E2E_ENV.databaseUrl),
    dataDir: read(E2E_ENV.dataDir),
  };
}
