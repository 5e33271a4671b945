// Starting points for `npx pg-sync-link generate`: a link and a foreign table, with every
// connection detail and secret read from the environment.

const LINK = `const legacy = fdwLink({
  name: 'legacy',
  host: env('LEGACY_DB_HOST'),
  port: env('LEGACY_DB_PORT'),
  dbname: env('LEGACY_DB_NAME'),
  remoteSettings: { lock_timeout: '2s' },
  userMappings: [{ user: env('LEGACY_DB_USER'), password: env('LEGACY_DB_PASSWORD') }],
});

const parts = [
  legacy,
  legacy.foreignTable({
    name: 'legacy_products',
    remote: { schema: 'public', name: 'products' },
    columns: [
      { name: 'id', type: 'bigint', notNull: true },
      { name: 'name', type: 'text' },
    ],
  }),
];`;

export const TEMPLATES = {
  knex: `import { env, fdwLink } from 'pg-sync-link';
import { knexMigration } from 'pg-sync-link/knex';

${LINK}

export const { up, down, config } = knexMigration(...parts);
`,
  kysely: `import { env, fdwLink } from 'pg-sync-link';
import { kyselyMigration } from 'pg-sync-link/kysely';

${LINK}

export const { up, down } = kyselyMigration(...parts);
`,
  umzug: `import { buildMigration, env, fdwLink } from 'pg-sync-link';
import { umzugMigrationFrom } from 'pg-sync-link/umzug';

${LINK}

// Umzug calls up({ context }) and down({ context }); the context is a pg Client or Pool, Knex or Kysely.
export const { up, down } = umzugMigrationFrom(buildMigration('NAME', ...parts));
`,
} as const;

export type Runner = keyof typeof TEMPLATES;
