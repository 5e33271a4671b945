import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// The built command (dist/cli.js), run as a user runs it. Generated files go to a folder inside
// the package so that their `import 'pg-sync-link'` resolves to it.
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const scratch = mkdtemp(path.join(ROOT, 'test', '.cli-'));
afterAll(async () => rm(await scratch, { recursive: true, force: true }));

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('node', [path.join(ROOT, 'dist/cli.js'), ...args], { cwd: ROOT, env: { ...process.env, LEGACY_DB_PASSWORD: 'do-not-print-me' } }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
    );
  });
}

describe('npx pg-sync-link', () => {
  it('explains itself, and every command has --help', async () => {
    expect((await cli('--help')).stdout).toMatch(/^Usage: pg-sync-link <command>/);
    expect((await cli('sql', '--help')).stdout).toMatch(/^Usage: pg-sync-link sql <module> \[--down\]/);
    expect((await cli('generate', '--help')).stdout).toMatch(/^Usage: pg-sync-link generate <knex\|kysely\|umzug> <name>/);
    expect((await cli('verify', '--help')).stdout).toMatch(/^Usage: pg-sync-link verify --local-env <VAR> --remote-env <VAR>/);
    expect((await cli('backfill', '--help')).stdout).toMatch(/^Usage: pg-sync-link backfill --local-env <VAR> --remote-env <VAR>/);
    const none = await cli();
    expect(none.code).toBe(2);
  });

  it('sql prints a Knex migration file\'s SQL with the password redacted, up or down', async () => {
    const up = await cli('sql', 'migrations/app/20261122000001_legacy_link.js');
    expect(up.code).toBe(0);
    expect(up.stdout).toContain(`CREATE USER MAPPING FOR CURRENT_USER SERVER legacy OPTIONS ("user" 'sync_from_app', password '[redacted env:LEGACY_DB_PASSWORD]');`);
    expect(up.stdout).not.toContain('do-not-print-me');
    const down = await cli('sql', 'migrations/app/20261122000004_sync_products_to_legacy.js', '--down');
    expect(down.stdout).toMatch(/^-- sync products to legacy \(down\)\nDROP TRIGGER sync_to_legacy_delete ON public\.products;/);
  });

  it('sql reads links and nodes exported by any module', async () => {
    const file = path.join(await scratch, 'link.mjs');
    await writeFile(file, `import { fdwLink } from 'pg-sync-link';\nexport const legacy = fdwLink({ name: 'legacy', host: 'db', dbname: 'legacy' });\n`);
    const result = await cli('sql', file);
    expect(result.stdout).toContain(`-- legacy (up)`);
    expect(result.stdout).toContain(`CREATE SERVER legacy FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'db', dbname 'legacy');`);
  });

  it('says what to fix, with a non-zero exit, on bad input', async () => {
    const nothing = await cli('sql', 'migrations/app/20261122000002_products.js');
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toMatch(/No pg-sync-link migration found in migrations\/app\/20261122000002_products\.js: export links or nodes/);
    expect((await cli('sql', 'no/such/file.js')).stderr).toContain('No such file: no/such/file.js');
    expect((await cli('sql', 'a.js', '--sideways')).code).toBe(2);
    expect((await cli('bogus')).stderr).toMatch(/^Unknown command "bogus"/);
    expect((await cli('generate', 'flyway', 'x')).stderr).toContain('Unknown runner "flyway": use knex, kysely or umzug.');
    expect((await cli('generate', 'knex', 'Bad Name')).stderr).toContain('must be lower-case letters, digits, _ and -');
  });

  it('generate writes a migration for each runner that sql can read', async () => {
    const dir = path.join(await scratch, 'migrations');
    for (const runner of ['knex', 'kysely', 'umzug']) {
      const written = await cli('generate', runner, `link_${runner}`, '--dir', dir);
      expect(written.code).toBe(0);
      expect(written.stdout).toMatch(new RegExp(`^Wrote .*\\d{14}_link_${runner}\\.mjs`));
    }
    const files = await readdir(dir);
    expect(files).toHaveLength(3);
    for (const file of files) {
      const result = await cli('sql', path.join(dir, file));
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain(`password '[redacted env:LEGACY_DB_PASSWORD]'`);
      expect(result.stdout).toContain('CREATE FOREIGN TABLE legacy_products (');
    }
  });
});
