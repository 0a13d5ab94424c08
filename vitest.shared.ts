import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

/**
 * The one vitest setup every package uses: colocated `*.test.ts` and `test/**` files, a JSON report that
 * `npm test` sums up, and timeouts that fit integration tests starting real services.
 */
export const vitestConfig = (options: { integration?: boolean } = {}) =>
  defineConfig({
    // type-graphql loads graphql's CommonJS build through Node; our code must get the very same instance.
    resolve: { alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }] },
    test: {
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      testTimeout: options.integration ? 180_000 : 10_000,
      hookTimeout: options.integration ? 240_000 : 10_000,
      reporters: ['default', ['json', { outputFile: '.test-results/vitest.json' }]],
      passWithNoTests: false,
      // Integration suites start real servers; on two cores they run one file at a time.
      fileParallelism: !options.integration,
    },
  });
