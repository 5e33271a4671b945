import { describe, expect, it } from 'vitest';
import {
  buildMigration,
  env,
  InvalidIdentifierError,
  InvalidOptionError,
  previewMigration,
  syncRole,
} from '../../src/index.js';
import { resolveStatements } from '../../src/sql/index.js';

describe('syncRole', () => {
  it('creates a login role with no rights of its own, its password deferred; down revokes and drops it', () => {
    const migration = buildMigration(
      'role',
      syncRole({ name: 'sync from app', password: env('SYNC_PASSWORD'), schemas: ['shop'], connectionLimit: 4 }),
    );
    expect(previewMigration(migration)).toBe(
      [
        `CREATE ROLE "sync from app" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS CONNECTION LIMIT 4 PASSWORD '[redacted env:SYNC_PASSWORD]';`,
        `DO $pgsl$BEGIN EXECUTE pg_catalog.format('GRANT CONNECT ON DATABASE %I TO %I', pg_catalog.current_database(), 'sync from app'); END$pgsl$;`,
        'GRANT USAGE ON SCHEMA shop TO "sync from app";',
      ].join('\n\n'),
    );
    expect(previewMigration(migration, 'down')).toBe(
      [
        'REVOKE USAGE ON SCHEMA shop FROM "sync from app";',
        `DO $pgsl$BEGIN EXECUTE pg_catalog.format('REVOKE CONNECT ON DATABASE %I FROM %I', pg_catalog.current_database(), 'sync from app'); END$pgsl$;`,
        'DROP ROLE "sync from app";',
      ].join('\n\n'),
    );
  });

  it('sends the password bound into a setting, never in the statement text', async () => {
    process.env.SYNC_PASSWORD = "it's\\zq-pw";
    const { statements } = await resolveStatements(
      buildMigration('role', syncRole({ name: 'r', password: env('SYNC_PASSWORD') })).up,
    );
    expect(statements[0]!.setup?.values).toEqual(["it's\\zq-pw"]);
    expect(
      JSON.stringify(
        statements.map((statement) => [statement.setup?.text, statement.main.text, statement.cleanup?.text]),
      ),
    ).not.toContain('zq-pw');
  });

  it('refuses a plain password, reserved names and bad limits, saying what to do', () => {
    expect(() => syncRole({ name: 'r', password: 'hunter2' as never })).toThrow(
      /password must be env\('VARIABLE'\) or secret\(label, resolver\)/,
    );
    expect(() => syncRole({ name: 'pg_sync', password: env('X') })).toThrow(InvalidOptionError);
    expect(() => syncRole({ name: 'public', password: env('X') })).toThrow(/PostgreSQL reserves this role name/);
    expect(() => syncRole({ name: 'r', password: env('X'), connectionLimit: 0 })).toThrow(
      /connectionLimit must be a whole number, 1 or more/,
    );
    expect(() => syncRole({ name: 'a\u0000b', password: env('X') })).toThrow(InvalidIdentifierError);
    expect(() => syncRole({ name: 'r', password: env('X'), grants: [] } as never)).toThrow(
      /Unknown option "grants" in syncRole/,
    );
  });
});
