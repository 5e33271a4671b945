import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// The built command (dist/cli.js), run as a user runs it. Generated files go to a folder inside
// the package so that their `import 'pg-sync-link'` resolves to it.
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const scratch = mkdtemp(path.join(ROOT, 'test', '.cli-'));
afterAll(async () => rm(await scratch, { recursive: true, force: true }));

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return cliIn(ROOT, ...args);
}

function cliIn(cwd: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'node',
      [path.join(ROOT, 'dist/cli.js'), ...args],
      { cwd, env: { ...process.env, LEGACY_DB_PASSWORD: 'do-not-print-me' } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
    );
  });
}

// Each command is a child process: give them time on a busy machine.
describe('npx pg-sync-link', { timeout: 120_000 }, () => {
  it('explains itself, and every command has --help', async () => {
    expect((await cli('--help')).stdout).toMatch(/^Usage: pg-sync-link <command>/);
    expect((await cli('sql', '--help')).stdout).toMatch(/^Usage: pg-sync-link sql <module \| folder> \[--down\]/);
    expect((await cli('generate', '--help')).stdout).toMatch(
      /^Usage: pg-sync-link generate <knex\|kysely\|umzug> <name>/,
    );
    expect((await cli('verify', '--help')).stdout).toMatch(
      /^Usage: pg-sync-link verify --local-env <VAR> --remote-env <VAR>/,
    );
    expect((await cli('backfill', '--help')).stdout).toMatch(
      /^Usage: pg-sync-link backfill --local-env <VAR> --remote-env <VAR>/,
    );
    const none = await cli();
    expect(none.code).toBe(2);
    const { version } = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8'));
    expect(await cli('--version')).toMatchObject({ code: 0, stdout: `${version}\n` });
    expect(await cli('-v')).toMatchObject({ code: 0, stdout: `${version}\n` });
    expect((await cli('--help')).stdout).toContain('  3  could not run:');
  });

  it("sql prints a Knex migration file's SQL with the password redacted, up or down", async () => {
    const up = await cli('sql', 'migrations/app/20261122000001_legacy_link.js');
    expect(up.code).toBe(0);
    expect(up.stdout).toContain(
      `CREATE USER MAPPING FOR CURRENT_USER SERVER legacy OPTIONS ("user" 'sync_from_app', password '[redacted env:LEGACY_DB_PASSWORD]');`,
    );
    expect(up.stdout).not.toContain('do-not-print-me');
    const down = await cli('sql', 'migrations/app/20261122000004_sync_products_to_legacy.js', '--down');
    expect(down.stdout).toMatch(
      /^-- sync products to legacy \(down\)\nDROP TRIGGER sync_to_legacy_delete ON public\.products;/,
    );
  });

  it('sql reads links and nodes exported by any module', async () => {
    const file = path.join(await scratch, 'link.mjs');
    await writeFile(
      file,
      `import { fdwLink } from 'pg-sync-link';\nexport const legacy = fdwLink({ name: 'legacy', host: 'db', dbname: 'legacy' });\n`,
    );
    const result = await cli('sql', file);
    expect(result.stdout).toContain(`-- legacy (up)`);
    expect(result.stdout).toContain(
      `CREATE SERVER legacy FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'db', dbname 'legacy', connect_timeout '10', keepalives '1', keepalives_idle '30', keepalives_interval '10', keepalives_count '3', tcp_user_timeout '60000');`,
    );
  });

  it('reads TypeScript modules (extensionless imports included), JavaScript that imports TypeScript, and whole folders, in order', async () => {
    const folder = path.join(await scratch, 'ts-migrations');
    await mkdir(folder);
    await writeFile(path.join(folder, 'host.ts'), `export const host: string = 'db';\n`);
    await writeFile(
      path.join(folder, '20260101000001_link.ts'),
      `import { env, fdwLink } from 'pg-sync-link';\nimport { knexMigration } from 'pg-sync-link/knex';\nimport { host } from './host';\n` +
        `export const { up, down, config } = knexMigration(fdwLink({ name: 'legacy', host, dbname: 'legacy', userMappings: [{ user: 'u', password: env('LEGACY_DB_PASSWORD') }] }));\n`,
    );
    await writeFile(
      path.join(folder, '20260101000002_table.mts'),
      `import { foreignTable } from 'pg-sync-link';\nimport { knexMigration } from 'pg-sync-link/knex';\ntype Column = { name: string; type: string };\nconst id: Column = { name: 'id', type: 'bigint' };\n` +
        `export const { up, down, config } = knexMigration(foreignTable({ server: 'legacy', name: 'legacy_products', remote: { name: 'products' }, columns: [id] }));\n`,
    );
    await writeFile(path.join(folder, 'types.d.ts'), `export type Nothing = never;\n`);

    const one = await cli('sql', path.join(folder, '20260101000001_link.ts'));
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toContain(
      `CREATE SERVER legacy FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'db', dbname 'legacy', connect_timeout '10', keepalives '1', keepalives_idle '30', keepalives_interval '10', keepalives_count '3', tcp_user_timeout '60000');`,
    );
    expect(one.stdout).toContain(`password '[redacted env:LEGACY_DB_PASSWORD]'`);

    const up = await cli('sql', folder);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).not.toContain('do-not-print-me');
    const order = [
      '20260101000001_link.ts',
      'CREATE SERVER legacy',
      '20260101000002_table.mts',
      'CREATE FOREIGN TABLE legacy_products',
      'host.ts: no pg-sync-link migration',
    ];
    expect(order.map((text) => up.stdout.indexOf(text))).toEqual(
      order.map((text) => up.stdout.indexOf(text)).sort((a, b) => a - b),
    );
    expect(up.stdout).not.toContain('types.d.ts');
    const mixed = path.join(await scratch, 'mixed.mjs');
    await writeFile(
      mixed,
      `import { fdwLink } from 'pg-sync-link';\nimport { host } from './ts-migrations/host.ts';\nexport const legacy = fdwLink({ name: 'legacy', host, dbname: 'legacy' });\n`,
    );
    expect((await cli('sql', mixed)).stdout).toContain(
      `CREATE SERVER legacy FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'db', dbname 'legacy', connect_timeout '10', keepalives '1', keepalives_idle '30', keepalives_interval '10', keepalives_count '3', tcp_user_timeout '60000');`,
    );
    const down = await cli('sql', folder, '--down');
    expect(down.stdout.indexOf('DROP FOREIGN TABLE legacy_products')).toBeLessThan(
      down.stdout.indexOf('DROP SERVER legacy'),
    );
  });

  it('says what to fix in one line, with the exit code of the table, on bad input', async () => {
    const nothing = await cli('sql', 'migrations/app/20261122000002_products.js');
    expect(nothing.code).toBe(3);
    expect(nothing.stderr).toMatch(
      /^pg-sync-link sql: No pg-sync-link migration found in migrations\/app\/20261122000002_products\.js: export links or nodes/,
    );
    expect(await cli('sql', 'no/such/file.js')).toMatchObject({
      code: 3,
      stderr: 'pg-sync-link sql: No such file: no/such/file.js\n',
    });
    expect((await cli('sql', 'a.js', '--sideways')).code).toBe(2);
    expect(await cli('bogus')).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/^pg-sync-link: Unknown command "bogus"/),
    });
    expect(await cli('generate', 'flyway', 'x')).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('Unknown runner "flyway": use knex, kysely or umzug.'),
    });
    expect((await cli('generate', 'knex', 'Bad Name')).stderr).toContain('must be lower-case letters, digits, _ and -');
    expect((await cli('generate', 'knex', 'x', '--ext', 'py')).code).toBe(2);

    const broken = path.join(await scratch, 'broken.ts');
    await writeFile(broken, `export const x: = ;\n`);
    const syntax = await cli('sql', broken);
    expect(syntax.code).toBe(3);
    expect(syntax.stderr).toMatch(/^pg-sync-link sql: Could not load .*broken\.ts: /);
    const throwing = path.join(await scratch, 'throws.mjs');
    await writeFile(throwing, `throw new Error('boom\\nsecond line');\n`);
    const thrown = await cli('sql', throwing);
    expect(thrown).toMatchObject({
      code: 3,
      stderr: expect.stringMatching(/^pg-sync-link sql: Could not load .*throws\.mjs: boom\n$/),
    });
    for (const run of [nothing, syntax, thrown, await cli('sql', 'a.js', '--sideways'), await cli('bogus')]) {
      expect(run.stderr.trim().split('\n'), run.stderr).toHaveLength(1);
      expect(run.stderr).not.toMatch(/ERR_UNKNOWN_FILE_EXTENSION|ERR_UNSUPPORTED_DIR_IMPORT|\n {4}at /);
    }
    const folder = path.join(await scratch, 'empty');
    await mkdir(folder);
    expect(await cli('sql', folder)).toMatchObject({
      code: 3,
      stderr: expect.stringContaining('No pg-sync-link migration found in the 0 module files of'),
    });
    expect(await cli('sql', 'migrations')).toMatchObject({
      code: 3,
      stderr: expect.stringContaining('It has folders (app, legacy): give one of them.'),
    });
  });

  it('under --json, a failure is JSON on stdout too', async () => {
    const usage = await cli('sql', 'x.js', '--json');
    expect(usage.code).toBe(2);
    expect(JSON.parse(usage.stdout)).toEqual({
      error: { code: 'USAGE', message: "Unknown option '--json'.", exitCode: 2 },
    });
    const cannot = await cli(
      'verify',
      '--local-env',
      'NOT_SET_ANYWHERE_1',
      '--remote-env',
      'NOT_SET_ANYWHERE_2',
      '--table',
      't',
      '--key',
      'id',
      '--columns',
      'id',
      '--json',
    );
    expect(cannot.code).toBe(3);
    expect(JSON.parse(cannot.stdout)).toEqual({
      error: {
        code: 'CANNOT_RUN',
        message: 'The environment variable NOT_SET_ANYWHERE_1 (--local-env) is not set.',
        exitCode: 3,
      },
    });
    const unknown = await cli('bogus', '--json');
    expect(JSON.parse(unknown.stdout)).toMatchObject({ error: { code: 'USAGE', exitCode: 2 } });
  });

  it("generate writes a migration for each runner, in the project's kind of file, that sql can read", async () => {
    // A project of each kind, where `pg-sync-link` resolves to this package as in an app.
    const project = async (name: string, manifest: object, tsconfig = false) => {
      const dir = path.join(await scratch, name);
      await mkdir(path.join(dir, 'node_modules'), { recursive: true });
      await symlink(ROOT, path.join(dir, 'node_modules', 'pg-sync-link'), 'dir');
      await writeFile(path.join(dir, 'package.json'), JSON.stringify(manifest));
      if (tsconfig) await writeFile(path.join(dir, 'tsconfig.json'), '{}');
      return dir;
    };
    const kinds = [
      { dir: await project('cjs-app', { name: 'cjs-app' }), knex: 'cjs', kysely: 'mjs', umzug: 'cjs' },
      { dir: await project('esm-app', { name: 'esm-app', type: 'module' }), knex: 'js', kysely: 'js', umzug: 'js' },
      {
        dir: await project('ts-app', { name: 'ts-app', devDependencies: { typescript: '^5' } }),
        knex: 'ts',
        kysely: 'ts',
        umzug: 'ts',
      },
      {
        dir: await project('tsconfig-app', { name: 'tsconfig-app', type: 'module' }, true),
        knex: 'ts',
        kysely: 'ts',
        umzug: 'ts',
      },
    ];
    const files: string[] = [];
    for (const kind of kinds) {
      for (const runner of ['knex', 'kysely', 'umzug'] as const) {
        const written = await cliIn(kind.dir, 'generate', runner, `link_${runner}`);
        expect(written.code, written.stderr).toBe(0);
        expect(written.stderr).toBe('');
        const file = /^Wrote (.*)\n$/.exec(written.stdout)?.[1];
        expect(file).toMatch(new RegExp(`^migrations/\\d{14}_link_${runner}\\.${kind[runner]}$`));
        files.push(path.join(kind.dir, file!));
      }
    }
    expect(await readFile(files[0]!, 'utf8')).toMatch(
      /^const \{ env, fdwLink \} = require\('pg-sync-link'\);[\s\S]*\nmodule\.exports = knexMigration\(\.\.\.parts\);\n$/,
    );
    const chosen = await cliIn(kinds[0]!.dir, 'generate', 'knex', 'as_mjs', '--ext', 'mjs');
    expect(chosen.stdout).toMatch(/_as_mjs\.mjs\n$/);
    expect(chosen.stderr).toBe(
      "Note: knex does not load .mjs files by default: add '.mjs' to migrations.loadExtensions in the knexfile.\n",
    );
    for (const file of files) {
      const result = await cli('sql', file);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain(`password '[redacted env:LEGACY_DB_PASSWORD]'`);
      expect(result.stdout).toContain('CREATE FOREIGN TABLE legacy_products (');
    }
  });

  it('status explains itself and refuses a wrong command line with exit code 2', async () => {
    expect((await cli('status', '--help')).stdout).toMatch(/^Usage: pg-sync-link status \[--url-env <NAME>/);
    expect((await cli('--help')).stdout).toContain('  status [--url-env <NAME>...');
    const cases: Array<[string[], RegExp]> = [
      [['status', 'postgres://u:secret@h/db'], /status takes no arguments/],
      [['status', '--interval', '5'], /--interval and --count go with --watch/],
      [['status', '--watch', '--interval', '0'], /--interval takes a positive number of seconds/],
      [['status', '--watch', '--count', '1.5'], /--count takes a positive whole number/],
      [['status', '--env', 'production'], /--env chooses a knexfile environment/],
      [['status', '--knexfile', 'k.js', '--url-env', 'X'], /either --url-env or --knexfile/],
    ];
    for (const [args, message] of cases) {
      const run = await cli(...args);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(message);
      expect(run.stderr).not.toContain('secret');
    }
    const unset = await cli('status', '--url-env', 'NO_SUCH_VARIABLE_HERE');
    expect(unset.code).toBe(3);
    expect(unset.stderr).toContain('Environment variable NO_SUCH_VARIABLE_HERE is not set');
  });
});
