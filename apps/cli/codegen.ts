import type { CodegenConfig } from '@graphql-codegen/cli';

/** Typed documents for every operation the terminal client sends, from the API's emitted schema. */
const config: CodegenConfig = {
  schema: '../api/schema.graphql',
  documents: ['src/**/*.ts', '!src/generated/**'],
  ignoreNoDocuments: false,
  generates: {
    'src/generated/': {
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
