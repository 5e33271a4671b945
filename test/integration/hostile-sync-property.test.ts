import fc from 'fast-check';
import type pg from 'pg';
import { expect, it } from 'vitest';
import {
  buildMigration,
  env,
  fdwLink,
  InvalidIdentifierError,
  InvalidLiteralError,
  InvalidOptionError,
  runMigration,
  syncEndpoint,
  syncTrigger,
  type Migration,
} from '../../src/index.js';
import { quoteIdentifier } from '../../src/sql/index.js';
import { catalogSnapshot } from '../harness/catalog.js';
import type { ServerPair } from '../harness/pair.js';
import { useServers } from '../harness/suite.js';

// Generated table and column names, renamed columns, keys and values through a real sync on two
// servers: each spec is refused with a typed error, or it installs on both sides, carries an
// insert, an update and a delete exactly, and its down leaves both catalogs as they were.
// Injection attempts in any of them never run: a canary table on each side survives.
let pair: ServerPair;
let legacy: pg.Client;
let app: pg.Client;
let names: { legacy: string; app: string };

useServers('syncprop', async (servers) => {
  ({ pair, legacy, app, names } = servers);
  process.env.SYNC_PROPERTY_PASSWORD = pair.legacy.password;
  for (const client of [legacy, app]) await client.query('CREATE TABLE canary (id int); INSERT INTO canary VALUES (1)');
  await runMigration(link(), 'up', (sql, values) => app.query(sql, [...values]));
});

const link = (): Migration =>
  buildMigration(
    'link',
    fdwLink({
      name: 'legacy',
      host: pair.legacy.peerHost,
      port: pair.legacy.peerPort,
      dbname: names.legacy,
      userMappings: [{ user: pair.legacy.user, password: env('SYNC_PROPERTY_PASSWORD') }],
    }),
  );

const INJECTIONS = [
  `x'); DROP TABLE canary; --`,
  `x"; DROP TABLE canary; --`,
  `$pgsl$; DROP TABLE canary; $pgsl$`,
  `%I; DROP TABLE canary; --%L`,
  `src.x); DROP TABLE canary; --`,
];
const name = fc.oneof(
  fc.string({ unit: 'grapheme', minLength: 0, maxLength: 20 }),
  fc.constantFrom(
    ...INJECTIONS,
    '"',
    "'",
    '\\',
    'select',
    'src',
    'NEW',
    'target',
    'Mixed Case',
    'é✓🔑',
    '',
    'x'.repeat(64),
    'a\u0000b',
  ),
  fc
    .array(fc.constantFrom('"', "'", '\\', '$', ';', '-', ' ', 'a', 'ü', '%'), { minLength: 1, maxLength: 12 })
    .map((parts) => parts.join('')),
);
// Values: anything PostgreSQL text can hold (no NUL).
const value = fc
  .oneof(fc.string({ unit: 'grapheme', maxLength: 30 }), fc.constantFrom(...INJECTIONS, "'", '\\', '$$'))
  .map((text) => text.replaceAll('\u0000', ''));

const quoted = (text: string) => quoteIdentifier(text);

async function canariesAlive(): Promise<boolean> {
  const query = `SELECT pg_catalog.to_regclass('public.canary') IS NOT NULL AS alive`;
  return (await legacy.query(query)).rows[0].alive && (await app.query(query)).rows[0].alive;
}

it('every generated sync spec is refused with a typed error, or syncs exactly and reverts on both sides', async () => {
  const before = { legacy: await catalogSnapshot(legacy), app: await catalogSnapshot(app) };
  let synced = 0;
  await fc.assert(
    fc.asyncProperty(
      name,
      name,
      name,
      name,
      name,
      value,
      value,
      async (table, remoteTable, key, remoteValue, localValue, first, second) => {
        // The fixture tables must be creatable: distinct column names, not our own canary.
        fc.pre(
          ![table, remoteTable].includes('canary') && key !== remoteValue && key !== localValue && first !== 'other',
        );
        let endpoint: Migration;
        let sender: Migration;
        try {
          const columns = [key, remoteValue];
          endpoint = buildMigration('endpoint', syncEndpoint({ table: remoteTable, key: [key], columns }));
          sender = buildMigration(
            'sender',
            syncTrigger({
              server: 'legacy',
              table,
              remote: { name: remoteTable },
              key: [key],
              columns: [key, { remote: remoteValue, local: localValue }],
            }),
          );
        } catch (error) {
          expect(
            [InvalidIdentifierError, InvalidOptionError, InvalidLiteralError].some((kind) => error instanceof kind),
          ).toBe(true);
          return;
        }
        const on = (client: pg.Client) => (sql: string, values: readonly string[]) => client.query(sql, [...values]);
        await legacy.query(
          `CREATE TABLE public.${quoted(remoteTable)} (${quoted(key)} text PRIMARY KEY, ${quoted(remoteValue)} text)`,
        );
        await app.query(
          `CREATE TABLE public.${quoted(table)} (${quoted(key)} text PRIMARY KEY, ${quoted(localValue)} text)`,
        );
        try {
          await runMigration(endpoint, 'up', on(legacy));
          await runMigration(sender, 'up', on(app));
          const local = `public.${quoted(table)}`;
          const byKey = (a: { k: string }, b: { k: string }) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0);
          const read = async () =>
            (
              await legacy.query(
                `SELECT ${quoted(key)} AS k, ${quoted(remoteValue)} AS v FROM public.${quoted(remoteTable)}`,
              )
            ).rows.sort(byKey);
          await app.query(`INSERT INTO ${local} VALUES ($1, $2), ('other', $2)`, [first, second]);
          expect(await read()).toEqual(
            [
              { k: first, v: second },
              { k: 'other', v: second },
            ].sort(byKey),
          );
          await app.query(`UPDATE ${local} SET ${quoted(localValue)} = $1`, [first]);
          await app.query(`DELETE FROM ${local} WHERE ${quoted(key)} = 'other'`);
          expect(await read()).toEqual([{ k: first, v: first }]);
          expect(await canariesAlive()).toBe(true);
          await runMigration(sender, 'down', on(app));
          await runMigration(endpoint, 'down', on(legacy));
          synced += 1;
        } finally {
          await app.query(`DROP TABLE IF EXISTS public.${quoted(table)} CASCADE`);
          await legacy.query(`DROP TABLE IF EXISTS public.${quoted(remoteTable)} CASCADE`);
        }
        expect(await canariesAlive()).toBe(true);
      },
    ),
    {
      numRuns: 100,
      examples: [[INJECTIONS[0]!, INJECTIONS[1]!, 'id', INJECTIONS[3]!, INJECTIONS[4]!, INJECTIONS[2]!, "it's"]],
    },
  );
  expect(synced).toBeGreaterThan(15);
  expect(await catalogSnapshot(legacy)).toEqual(before.legacy);
  expect(await catalogSnapshot(app)).toEqual(before.app);
}, 120_000);
