import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { catalogSnapshot } from '../harness/catalog.js';
import { PRODUCT_ROWS, readProducts, seedProducts } from '../harness/legacy-fixture.js';
import type { ServerPair } from '../harness/pair.js';
import { connectionString } from '../harness/server.js';
import { useServers } from '../harness/suite.js';

// The real Knex CLI in a child process, on the built package (dist/), as a user runs it.
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const KNEXFILES = [
  { kind: 'ES module knexfile.mjs and .mjs migrations', path: 'test/fixtures/knex-esm/knexfile.mjs' },
  { kind: 'CommonJS (knexfile.cjs and .cjs migrations)', path: 'test/fixtures/knex-cjs/knexfile.cjs' },
];
const KNEX_TABLES = ['knex_migrations', 'knex_migrations_lock'];
// Apps made here: inside the package, with node_modules/pg-sync-link pointing at it.
const scratch = mkdtemp(path.join(ROOT, 'test', '.knex-apps-'));
afterAll(async () => rm(await scratch, { recursive: true, force: true }));

interface CliResult {
  code: number;
  output: string;
}

function run(command: string, args: string[], env: Record<string, string>, cwd = ROOT): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}` });
    });
  });
}

function knex(args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile('npx', ['knex', ...args], { cwd: ROOT, env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}` });
    });
  });
}

let pair: ServerPair;
let app: pg.Client;
let env: Record<string, string>;

useServers('knexcli', async (servers) => {
  ({ pair, app } = servers);
  await seedProducts(servers.legacy);
  env = {
    APP_DATABASE_URL: connectionString(pair.app, servers.names.app),
    LEGACY_DB_HOST: pair.legacy.peerHost,
    LEGACY_DB_PORT: String(pair.legacy.peerPort),
    LEGACY_DB_NAME: servers.names.legacy,
    LEGACY_DB_USER: pair.legacy.user,
    LEGACY_DB_PASSWORD: pair.legacy.password,
  };
});

describe.each(KNEXFILES)('npx knex with a $kind', ({ path }) => {
  it('migrate:latest links app to legacy; rollback leaves app as it was', async () => {
    // Knex creates its own bookkeeping tables on the first run; they are not ours to undo.
    const before = await catalogSnapshot(app, KNEX_TABLES);
    // Knex's query log is on: it prints every statement text, which must not hold the password.
    const latest = await knex(['migrate:latest', '--knexfile', path], { ...env, DEBUG: 'knex:query' });
    expect(latest.output).toMatch(/Batch 1 run: \d+ migrations/);
    expect(latest.output).toContain('pg_sync_link.secret_1');
    expect(latest.code).toBe(0);
    expect(await readProducts(app, { name: 'legacy_products' })).toEqual(PRODUCT_ROWS);

    const rollback = await knex(['migrate:rollback', '--all', '--knexfile', path], env);
    expect(rollback.code).toBe(0);
    expect(rollback.output).toMatch(/Batch 1 rolled back: \d+ migrations/);
    expect(await catalogSnapshot(app, KNEX_TABLES)).toEqual(before);
    expect(`${latest.output}${rollback.output}`).not.toContain(pair.legacy.password);
  });

  it('a missing password variable fails the run, names the variable and changes nothing', async () => {
    const before = await catalogSnapshot(app, KNEX_TABLES);
    const { LEGACY_DB_PASSWORD: _password, ...withoutPassword } = env;
    const result = await knex(['migrate:latest', '--knexfile', path], { ...withoutPassword, LEGACY_DB_PASSWORD: '' });
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('Environment variable LEGACY_DB_PASSWORD is not set');
    expect(await catalogSnapshot(app, KNEX_TABLES)).toEqual(before);
    const { rows } = await app.query(`SELECT count(*)::int AS n FROM knex_migrations`);
    expect(rows[0].n).toBe(0);
  });
});

describe('npx knex with knexMigrationSource', () => {
  it('migrate:list names each migration by its id, pending and completed', async () => {
    const knexfile = 'test/fixtures/knex-source/knexfile.mjs';
    const ids = ['legacy-sync/001-link-legacy', 'legacy-sync/002-foreign-table-default.legacy_products'];
    const before = await catalogSnapshot(app, KNEX_TABLES);
    const pending = await knex(['migrate:list', '--knexfile', knexfile], env);
    expect(pending.code, pending.output).toBe(0);
    expect(pending.output).toContain(`Found 2 Pending Migration file/files.\n${ids.join('\n')}\n`);
    expect(pending.output).not.toContain('undefined');

    expect((await knex(['migrate:latest', '--knexfile', knexfile], env)).output).toMatch(/Batch 1 run: 2 migrations/);
    const completed = await knex(['migrate:list', '--knexfile', knexfile], env);
    expect(completed.output).toContain(`Found 2 Completed Migration file/files.\n${ids.join('\n')}\n`);
    expect(completed.output).toContain('No Pending Migration files Found.');
    expect(completed.output).not.toContain('undefined');

    const rollback = await knex(['migrate:rollback', '--all', '--knexfile', knexfile], env);
    expect(rollback.output).toMatch(/Batch 1 rolled back: 2 migrations/);
    expect(await catalogSnapshot(app, KNEX_TABLES)).toEqual(before);
  });
});

describe('npx pg-sync-link generate knex, then npx knex migrate:latest', () => {
  const apps = [
    {
      kind: 'a CommonJS app',
      manifest: { name: 'cjs-app' },
      knexfile: 'knexfile.js',
      config: 'module.exports = CONFIG;',
      extension: 'cjs',
    },
    {
      kind: 'an ES module app',
      manifest: { name: 'esm-app', type: 'module' },
      knexfile: 'knexfile.js',
      config: 'export default CONFIG;',
      extension: 'js',
    },
    // Knex loads a knexfile.ts through the TypeScript hook it finds (sucrase here, ts-node in most apps).
    {
      kind: 'a TypeScript app',
      manifest: { name: 'ts-app', devDependencies: { typescript: '^5' } },
      knexfile: 'knexfile.ts',
      config: 'export default CONFIG;',
      extension: 'ts',
    },
  ];
  it.each(apps)(
    'in $kind, Knex runs the generated file (.$extension) with its default settings',
    async ({ manifest, knexfile, config, extension }) => {
      const dir = path.join(await scratch, manifest.name);
      await mkdir(path.join(dir, 'node_modules'), { recursive: true });
      await symlink(ROOT, path.join(dir, 'node_modules', 'pg-sync-link'), 'dir');
      await writeFile(path.join(dir, 'package.json'), JSON.stringify(manifest));
      await writeFile(
        path.join(dir, knexfile),
        config.replace('CONFIG', `{ client: 'pg', connection: process.env.APP_DATABASE_URL }`),
      );
      const generated = await run(
        'node',
        [path.join(ROOT, 'dist/cli.js'), 'generate', 'knex', 'link_legacy'],
        env,
        dir,
      );
      expect(generated.code, generated.output).toBe(0);
      const files = await readdir(path.join(dir, 'migrations'));
      expect(files).toEqual([expect.stringMatching(new RegExp(`^\\d{14}_link_legacy\\.${extension}$`))]);

      const before = await catalogSnapshot(app, KNEX_TABLES);
      const latest = await knex(['migrate:latest', '--knexfile', path.join(dir, knexfile)], env);
      expect(latest.output).toMatch(/Batch 1 run: 1 migrations/);
      expect((await app.query('SELECT count(*)::int AS n FROM legacy_products')).rows[0].n).toBe(PRODUCT_ROWS.length);
      const listed = await knex(['migrate:list', '--knexfile', path.join(dir, knexfile)], env);
      expect(listed.output).toContain(`Found 1 Completed Migration file/files.\n${files[0]}\n`);
      const rollback = await knex(['migrate:rollback', '--all', '--knexfile', path.join(dir, knexfile)], env);
      expect(rollback.output).toMatch(/Batch 1 rolled back: 1 migrations/);
      expect(await catalogSnapshot(app, KNEX_TABLES)).toEqual(before);
      await app.query('DELETE FROM knex_migrations');
    },
  );
});
