import { defineConfig } from 'prisma/config';

// The CLI is used only for `prisma generate`: migrations are applied by packages/db's runner.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
});
