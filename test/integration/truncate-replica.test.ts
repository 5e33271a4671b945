import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import {
  buildMigration,
  changeFeed,
  env,
  fdwLink,
  syncEndpoint,
  syncTrigger,
  type Migration,
} from '../../src/index.js';
import { applyInTransaction } from '../harness/apply.js';
import { catalogSnapshot } from '../harness/catalog.js';
import type { ServerPair } from '../harness/pair.js';
import { useServers } from '../harness/suite.js';

// TRUNCATE fires no insert, update or delete trigger: a synced table emptied by it would leave
// the other side with every row. Each kind refuses it, naming itself and the way out; and every
// trigger fires in session_replication_role = replica sessions too (pg_restore, ETL tools).
const COLUMNS = ['id', 'name'];
let pair: ServerPair;
let legacy: pg.Client;
let app: pg.Client;
let names: { legacy: string; app: string };

useServers('truncate', async (servers) => {
  ({ pair, legacy, app, names } = servers);
  process.env.TRUNCATE_LEGACY_PASSWORD = pair.legacy.password;
  for (const client of [legacy, app])
    await client.query(
      'CREATE TABLE items (id bigint PRIMARY KEY, name text); CREATE TABLE copies (id bigint PRIMARY KEY, name text)',
    );
  await applyInTransaction(
    legacy,
    buildMigration('endpoint', syncEndpoint({ table: 'items', key: ['id'], columns: COLUMNS })),
    'up',
  );
});

const link = () =>
  fdwLink({
    name: 'legacy',
    host: pair.legacy.peerHost,
    port: pair.legacy.peerPort,
    dbname: names.legacy,
    userMappings: [{ user: pair.legacy.user, password: env('TRUNCATE_LEGACY_PASSWORD') }],
  });

interface Kind {
  readonly name: string;
  readonly migration: () => Migration;
  /** The refusal names this. */
  readonly names: RegExp;
  /** The refusing trigger. */
  readonly trigger: string;
  /** What the other side (or the feed) holds for row 1 after a write in a replica session. */
  readonly carried: () => Promise<unknown[]>;
}

const KINDS: Kind[] = [
  {
    name: 'write-through, immediate',
    migration: () =>
      buildMigration('sync', link(), syncTrigger({ server: 'legacy', table: 'items', key: ['id'], columns: COLUMNS })),
    names: /the sync to public\.items on server legacy/,
    trigger: 'sync_to_legacy_truncate',
    carried: async () => (await legacy.query('SELECT id::int, name FROM items')).rows,
  },
  {
    name: 'write-through, at commit',
    migration: () =>
      buildMigration(
        'sync',
        link(),
        syncTrigger({ server: 'legacy', table: 'items', key: ['id'], columns: COLUMNS, timing: 'commit' }),
      ),
    names: /the sync to public\.items on server legacy/,
    trigger: 'sync_to_legacy_truncate',
    carried: async () => (await legacy.query('SELECT id::int, name FROM items')).rows,
  },
  {
    name: 'outbox',
    migration: () =>
      buildMigration(
        'sync',
        link(),
        syncTrigger({ server: 'legacy', table: 'items', key: ['id'], columns: COLUMNS, delivery: 'outbox' }),
      ),
    names: /the sync to public\.items on server legacy/,
    trigger: 'sync_to_legacy_truncate',
    carried: async () => {
      await app.query('SELECT * FROM items__drain_legacy()');
      return (await legacy.query('SELECT id::int, name FROM items')).rows;
    },
  },
  {
    name: 'same-database sync',
    migration: () =>
      buildMigration('sync', syncTrigger({ table: 'items', target: 'copies', key: ['id'], columns: COLUMNS })),
    names: /the same-database sync to public\.copies/,
    trigger: 'sync_to_public_copies_truncate',
    carried: async () => (await app.query('SELECT id::int, name FROM copies')).rows,
  },
  {
    name: 'change feed',
    migration: () => buildMigration('feed', changeFeed({ table: 'items', key: ['id'], channel: 'items' })),
    names: /the change feed on channel items/,
    trigger: 'change_feed_truncate',
    carried: async () =>
      (await app.query(`SELECT (key ->> 'id')::int AS id, row ->> 'name' AS name FROM items__changes`)).rows,
  },
];

describe.each(KINDS)('$name', (kind) => {
  it('refuses TRUNCATE with the way out, and carries writes of a replica session; down leaves the catalog as it was', async () => {
    const before = await catalogSnapshot(app);
    await applyInTransaction(app, kind.migration(), 'up');

    await app.query('SET session_replication_role = replica');
    await app.query(`INSERT INTO items VALUES (1, 'restored')`);
    await app.query('RESET session_replication_role');
    expect(await kind.carried()).toEqual([{ id: 1, name: 'restored' }]);

    const refused = await app.query('TRUNCATE items').catch((error: unknown) => error as pg.DatabaseError);
    expect(refused).toMatchObject({ code: '0A000', message: expect.stringMatching(/^pg-sync-link: /) });
    expect((refused as pg.DatabaseError).message).toMatch(/TRUNCATE of public\.items is refused/);
    expect((refused as pg.DatabaseError).message).toMatch(kind.names);
    // Named once: no wrapper adds a second prefix to the refusal.
    expect((refused as pg.DatabaseError).message.match(/pg-sync-link:/g)).toHaveLength(1);
    expect((refused as pg.DatabaseError).hint).toContain(
      `ALTER TABLE public.items DISABLE TRIGGER ${kind.trigger}; TRUNCATE public.items;`,
    );
    // Also refused in a replica session, and the rows are all still here.
    await app.query('SET session_replication_role = replica');
    await expect(app.query('TRUNCATE items')).rejects.toThrow(/TRUNCATE of public\.items is refused/);
    await app.query('RESET session_replication_role');
    expect((await app.query('SELECT count(*)::int AS n FROM items')).rows[0].n).toBe(1);

    // The way out the hint gives empties this side only, on purpose.
    await app.query(
      `BEGIN; ALTER TABLE items DISABLE TRIGGER ${kind.trigger}; TRUNCATE items; ALTER TABLE items ENABLE ALWAYS TRIGGER ${kind.trigger}; COMMIT`,
    );
    expect((await app.query('SELECT count(*)::int AS n FROM items')).rows[0].n).toBe(0);

    await applyInTransaction(app, kind.migration(), 'down');
    expect(await catalogSnapshot(app)).toEqual(before);
  });
});
