import fc from 'fast-check';
import type pg from 'pg';
import { expect, it } from 'vitest';
import { buildMigration, foreignServer, foreignTable, InvalidIdentifierError, InvalidLiteralError, InvalidOptionError, runMigration, userMapping } from '../../src/index.js';
import { catalogSnapshot } from '../harness/catalog.js';
import { useServers } from '../harness/suite.js';

// Generated names and option values: each spec is either refused with a typed error, or its SQL
// is accepted by PostgreSQL's own parser, creates objects named exactly as given, and its down
// leaves the catalog as it was. Nothing a value holds is ever executed.
let app: pg.Client;
useServers('property', async (servers) => {
  app = servers.app;
  await app.query('CREATE EXTENSION postgres_fdw');
});

const hostile = fc.oneof(
  fc.string({ unit: 'grapheme', minLength: 0, maxLength: 30 }),
  fc.constantFrom('"', "'", '\\', '$$', '$pgsl$', '; DROP TABLE x; --', 'a\u0000b', 'line\nbreak', 'select', 'user', 'Mixed Case', 'é✓🔑', '', ' '.repeat(3), 'x'.repeat(64)),
  fc.array(fc.constantFrom('"', "'", '\\', '$', ';', '-', ' ', 'a', 'ü'), { maxLength: 20 }).map((parts) => parts.join('')),
);

it('every generated spec is refused with a typed error, or applies and reverts exactly', async () => {
  const before = await catalogSnapshot(app);
  let applied = 0;
  await fc.assert(
    fc.asyncProperty(hostile, hostile, hostile, hostile, async (server, table, column, value) => {
      let migration;
      try {
        migration = buildMigration(
          'property',
          foreignServer({ name: server, host: 'db.invalid', dbname: value === '' ? 'd' : value, options: { application_name: value || 'x' } }),
          userMapping({ server, user: value || 'u' }),
          foreignTable({ server, name: { schema: 'public', name: table }, remote: { name: column }, columns: [{ name: column, type: 'text' }] }),
        );
      } catch (error) {
        expect([InvalidIdentifierError, InvalidOptionError, InvalidLiteralError].some((kind) => error instanceof kind)).toBe(true);
        return;
      }
      const run = (direction: 'up' | 'down') => runMigration(migration, direction, (sql, values) => app.query(sql, [...values]));
      await app.query('BEGIN');
      try {
        await run('up');
        const servers = await app.query('SELECT srvname FROM pg_foreign_server');
        const tables = await app.query(`SELECT c.relname, a.attname FROM pg_foreign_table f JOIN pg_class c ON c.oid = f.ftrelid JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = 1`);
        expect(servers.rows).toEqual([{ srvname: server }]);
        expect(tables.rows).toEqual([{ relname: table, attname: column }]);
        await run('down');
        const left = await app.query('SELECT (SELECT count(*) FROM pg_foreign_server)::int AS servers, (SELECT count(*) FROM pg_foreign_table)::int AS tables, (SELECT count(*) FROM pg_user_mappings)::int AS mappings');
        expect(left.rows).toEqual([{ servers: 0, tables: 0, mappings: 0 }]);
        applied += 1;
      } finally {
        await app.query('ROLLBACK');
      }
    }),
    { numRuns: 150 },
  );
  expect(applied).toBeGreaterThan(20);
  expect(await catalogSnapshot(app)).toEqual(before);
}, 120_000);
