import type { CodegenConfig } from '@graphql-codegen/cli';

/** Typed documents for every operation the console sends, from the API's emitted schema. */
const config: CodegenConfig = {
  schema: '../api/schema.graphql',
  documents: ['lib/**/*.ts', 'components/**/*.tsx', 'app/**/*.tsx', '!lib/gql/**'],
  ignoreNoDocuments: false,
  generates: {
    'lib/gql/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: { Bytes: 'number', DateTime: 'string', JSON: 'unknown' },
      },
    },
  },
};

export default config;
