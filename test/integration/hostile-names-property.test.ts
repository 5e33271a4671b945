import fc from 'fast-check';
import type pg from 'pg';
import { expect, it } from 'vitest';
import {
  buildMigration,
  foreignServer,
  foreignTable,
  InvalidIdentifierError,
  InvalidLiteralError,
  InvalidOptionError,
  runMigration,
  userMapping,
  type Migration,
} from '../../src/index.js';
import { catalogSnapshot } from '../harness/catalog.js';
import { useServers } from '../harness/suite.js';

// Generated names and option values: each spec is either refused with a typed error, or its SQL
// is accepted by PostgreSQL's own parser, creates objects named exactly as given, and its down
// leaves the catalog as it was. Nothing a value holds is ever executed.
let app: pg.Client;
useServers('property', async (servers) => {
  app = servers.app;
  await app.query('CREATE EXTENSION postgres_fdw');
  // An injected DROP TABLE that ever ran would remove it (checked inside each run's transaction).
  await app.query('CREATE TABLE canary (id int); INSERT INTO canary VALUES (1)');
});

/** Attempts to end a quoted name, literal, dollar-quoted body or format() string early. */
const INJECTIONS = [
  `x'); DROP TABLE canary; --`,
  `x"; DROP TABLE canary; --`,
  `x' || (SELECT 1 FROM pg_catalog.pg_class); DROP TABLE canary; --`,
  `$pgsl$; DROP TABLE canary; $pgsl$`,
  `$$; DROP TABLE canary; $$`,
  `%L'); DROP TABLE canary; --%s`,
  `\\'; DROP TABLE canary; --`,
  `E'\\x27; DROP TABLE canary; --`,
  `-c log_statement=all -c x='; DROP TABLE canary; --`,
];

const hostile = fc.oneof(
  fc.string({ unit: 'grapheme', minLength: 0, maxLength: 30 }),
  fc.constantFrom(
    '"',
    "'",
    '\\',
    '$$',
    '$pgsl$',
    '; DROP TABLE x; --',
    'a\u0000b',
    'line\nbreak',
    'select',
    'user',
    'Mixed Case',
    'é✓🔑',
    '',
    ' '.repeat(3),
    'x'.repeat(64),
  ),
  fc.constantFrom(...INJECTIONS),
  fc
    .array(fc.constantFrom('"', "'", '\\', '$', ';', '-', ' ', 'a', 'ü', '%', '='), { maxLength: 20 })
    .map((parts) => parts.join('')),
);

const TYPED_ERRORS = [InvalidIdentifierError, InvalidOptionError, InvalidLiteralError];

async function canaryAlive(): Promise<boolean> {
  const { rows } = await app.query(`SELECT pg_catalog.to_regclass('public.canary') IS NOT NULL AS alive`);
  return rows[0].alive;
}

it('every generated spec is refused with a typed error, or applies and reverts exactly', async () => {
  const before = await catalogSnapshot(app);
  let applied = 0;
  await fc.assert(
    fc.asyncProperty(hostile, hostile, hostile, hostile, async (server, table, column, value) => {
      let migration: Migration;
      try {
        migration = buildMigration(
          'property',
          foreignServer({
            name: server,
            host: 'db.invalid',
            dbname: value === '' ? 'd' : value,
            options: { application_name: value || 'x' },
          }),
          userMapping({ server, user: value || 'u' }),
          foreignTable({
            server,
            name: { schema: 'public', name: table },
            remote: { name: column },
            columns: [{ name: column, type: 'text' }],
          }),
        );
      } catch (error) {
        expect(TYPED_ERRORS.some((kind) => error instanceof kind)).toBe(true);
        return;
      }
      const run = (direction: 'up' | 'down') =>
        runMigration(migration, direction, (sql, values) => app.query(sql, [...values]));
      await app.query('BEGIN');
      try {
        await run('up');
        const servers = await app.query('SELECT srvname FROM pg_foreign_server');
        const tables = await app.query(
          `SELECT c.relname, a.attname FROM pg_foreign_table f JOIN pg_class c ON c.oid = f.ftrelid JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = 1`,
        );
        expect(servers.rows).toEqual([{ srvname: server }]);
        expect(tables.rows).toEqual([{ relname: table, attname: column }]);
        await run('down');
        const left = await app.query(
          'SELECT (SELECT count(*) FROM pg_foreign_server)::int AS servers, (SELECT count(*) FROM pg_foreign_table)::int AS tables, (SELECT count(*) FROM pg_user_mappings)::int AS mappings',
        );
        expect(left.rows).toEqual([{ servers: 0, tables: 0, mappings: 0 }]);
        expect(await canaryAlive()).toBe(true);
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

// Option values: server options (libpq's and postgres_fdw's), remoteSettings, foreign table
// options and user mapping options. Each value is stored exactly as given, or refused.
// Most fields left out in a run, so that a run is not almost always refused for one of them.
const maybe = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined, freq: 1 });
const optionValue = fc.oneof(
  hostile,
  fc.integer({ min: -2, max: 100_000 }),
  fc.boolean(),
  fc.constantFrom('require', 'prefer', 'true', '100', '0'),
);
const mostlyValid = (...valid: (string | number | boolean)[]) =>
  fc.oneof({ arbitrary: fc.constantFrom(...valid), weight: 4 }, { arbitrary: optionValue, weight: 1 });

it('every generated option value is refused with a typed error, or stored exactly and reverted; nothing it holds runs', async () => {
  const before = await catalogSnapshot(app);
  let applied = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        server: fc.record({
          application_name: maybe(optionValue),
          options: maybe(optionValue),
          fetch_size: maybe(mostlyValid(1, 100, '5000')),
          sslmode: maybe(mostlyValid('disable', 'prefer', 'verify-full')),
          sslrootcert: maybe(optionValue),
          connect_timeout: maybe(mostlyValid(0, '10')),
          extensions: maybe(optionValue),
        }),
        settings: maybe(
          fc.dictionary(
            fc.oneof(hostile, fc.constantFrom('lock_timeout', 'statement_timeout', 'app.mark')),
            fc.oneof(hostile, fc.constantFrom('2s', '500', 'on')),
            { maxKeys: 2 },
          ),
        ),
        table: fc.record({
          fetch_size: maybe(mostlyValid(1, '100')),
          batch_size: maybe(mostlyValid(10, '1000')),
          updatable: maybe(mostlyValid(true, 'false')),
        }),
        mapping: fc.record({ user: maybe(hostile), sslcert: maybe(hostile), sslkey: maybe(hostile) }),
      }),
      async ({ server, settings, table, mapping }) => {
        let migration: Migration;
        try {
          migration = buildMigration(
            'options',
            foreignServer({
              name: 'hostile',
              host: 'db.invalid',
              dbname: 'd',
              options: server as Record<string, string>,
              remoteSettings: settings as Record<string, string>,
            }),
            userMapping({ server: 'hostile', ...mapping }),
            foreignTable({
              server: 'hostile',
              name: 'hostile_table',
              columns: [{ name: 'id', type: 'bigint' }],
              options: table as Record<string, string>,
            }),
          );
        } catch (error) {
          expect(TYPED_ERRORS.some((kind) => error instanceof kind)).toBe(true);
          return;
        }
        const run = (direction: 'up' | 'down') =>
          runMigration(migration, direction, (sql, values) => app.query(sql, [...values]));
        await app.query('BEGIN');
        try {
          await run('up');
          const { rows } = await app.query(
            `SELECT s.srvoptions, m.umoptions, f.ftoptions FROM pg_foreign_server s, pg_user_mappings m, pg_foreign_table f WHERE s.srvname = 'hostile' AND m.srvid = s.oid AND f.ftserver = s.oid`,
          );
          const stored = (options: string[] | null) => options ?? [];
          for (const [name, value] of Object.entries(server)) {
            if (value !== undefined && name !== 'options')
              expect(stored(rows[0].srvoptions)).toContain(`${name}=${String(value)}`);
          }
          for (const [name, value] of Object.entries(mapping))
            if (value !== undefined) expect(stored(rows[0].umoptions)).toContain(`${name}=${value}`);
          for (const [name, value] of Object.entries(table))
            if (value !== undefined) expect(stored(rows[0].ftoptions)).toContain(`${name}=${String(value)}`);
          expect(await canaryAlive()).toBe(true);
          await run('down');
          expect(await canaryAlive()).toBe(true);
          applied += 1;
        } finally {
          await app.query('ROLLBACK');
        }
      },
    ),
    {
      numRuns: 150,
      // Always tried: values PostgreSQL itself parses further (a list of extension names, libpq's
      // command-line options) and an injection in each kind of field.
      examples: [
        [{ server: { extensions: 'a"b' }, settings: undefined, table: {}, mapping: {} }],
        [{ server: { extensions: 'postgres_fdw, "x y"' }, settings: undefined, table: {}, mapping: {} }],
        [
          {
            server: { options: INJECTIONS[8], application_name: INJECTIONS[0] },
            settings: { lock_timeout: '2s' },
            table: {},
            mapping: { user: INJECTIONS[1], sslcert: INJECTIONS[5] },
          },
        ],
        [
          {
            server: { sslrootcert: INJECTIONS[3] },
            settings: { [INJECTIONS[0]!]: '1' },
            table: { fetch_size: INJECTIONS[2] },
            mapping: { sslkey: INJECTIONS[6] },
          },
        ],
      ] as never,
    },
  );
  expect(applied).toBeGreaterThan(10);
  expect(await catalogSnapshot(app)).toEqual(before);
}, 120_000);
