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

/** The runners `generate` writes a migration for. */
export const RUNNERS = ['knex', 'kysely', 'umzug'] as const;

/** A migration runner: knex, kysely or umzug. */
export type Runner = (typeof RUNNERS)[number];

/** How the file is written: ES module (`import`/`export`) or CommonJS (`require`/`module.exports`). */
export type ModuleSyntax = 'esm' | 'cjs';

const IMPORTS: Record<Runner, { core: string; adapter: string; name: string }> = {
  knex: { core: 'env, fdwLink', adapter: 'knex', name: 'knexMigration' },
  kysely: { core: 'env, fdwLink', adapter: 'kysely', name: 'kyselyMigration' },
  umzug: { core: 'buildMigration, env, fdwLink', adapter: 'umzug', name: 'umzugMigrationFrom' },
};

function body(runner: Runner, name: string): { exported: string; value: string } {
  if (runner === 'knex') return { exported: '{ up, down, config }', value: 'knexMigration(...parts)' };
  if (runner === 'kysely') return { exported: '{ up, down }', value: 'kyselyMigration(...parts)' };
  return { exported: '{ up, down }', value: `umzugMigrationFrom(buildMigration(${JSON.stringify(name)}, ...parts))` };
}

/** The text of a new migration file for `runner`, named `name`, in ES module or CommonJS syntax. */
export function migrationTemplate(runner: Runner, name: string, syntax: ModuleSyntax): string {
  const { core, adapter, name: helper } = IMPORTS[runner];
  const { exported, value } = body(runner, name);
  const imports =
    syntax === 'esm'
      ? `import { ${core} } from 'pg-sync-link';\nimport { ${helper} } from 'pg-sync-link/${adapter}';`
      : `const { ${core} } = require('pg-sync-link');\nconst { ${helper} } = require('pg-sync-link/${adapter}');`;
  const note =
    runner === 'umzug'
      ? '// Umzug calls up({ context }) and down({ context }); the context is a pg Client or Pool, Knex or Kysely.\n'
      : '';
  const exports = syntax === 'esm' ? `export const ${exported} = ${value};` : `module.exports = ${value};`;
  return `${imports}\n\n${LINK}\n\n${note}${exports}\n`;
}
