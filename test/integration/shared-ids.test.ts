import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import {
  buildMigration,
  env,
  fdwLink,
  interleavedIdPlan,
  MigrationFailedError,
  sharedIds,
  sharedIdSource,
  syncEndpoint,
  syncTrigger,
  type Part,
  type SharedIdStrategy,
} from '../../src/index.js';
import { applyInTransaction } from '../harness/apply.js';
import { catalogSnapshot } from '../harness/catalog.js';
import type { ServerPair } from '../harness/pair.js';
import { connect } from '../harness/server.js';
import { useServers } from '../harness/suite.js';

// Products synced both ways, each side inserting without giving an id: the seed's collision,
// then each strategy that prevents it, under 10k inserts interleaved on both sides.
const COLUMNS = ['id', 'name'];
const INSERTS_PER_SIDE = 5000;

let pair: ServerPair;
let legacy: pg.Client;
let app: pg.Client;
let names: { legacy: string; app: string };

useServers('ids', async (servers) => {
  ({ pair, legacy, app, names } = servers);
  process.env.IDS_LEGACY_PASSWORD = pair.legacy.password;
  process.env.IDS_APP_PASSWORD = pair.app.password;
  for (const client of [legacy, app]) {
    await client.query('CREATE TABLE products (id bigserial PRIMARY KEY, name text NOT NULL)');
    await applyInTransaction(
      client,
      buildMigration('endpoint', syncEndpoint({ table: 'products', key: ['id'], columns: COLUMNS })),
      'up',
    );
  }
});

function link(to: 'legacy' | 'app') {
  return fdwLink({
    name: to,
    host: pair[to].peerHost,
    port: pair[to].peerPort,
    dbname: names[to],
    options: { application_name: `sync to ${to}` },
    remoteSettings: { lock_timeout: '2s' },
    userMappings: [
      { user: pair[to].user, password: env(to === 'legacy' ? 'IDS_LEGACY_PASSWORD' : 'IDS_APP_PASSWORD') },
    ],
  });
}

function sync(to: 'legacy' | 'app'): Part {
  return syncTrigger({
    server: to,
    table: 'products',
    key: ['id'],
    columns: COLUMNS,
    ignoreWritesBy: { applicationName: `sync to ${to === 'legacy' ? 'app' : 'legacy'}` },
  });
}

async function twoWay(appExtra: Part[] = [], legacyExtra: Part[] = []): Promise<void> {
  await applyInTransaction(legacy, buildMigration('legacy side', ...legacyExtra, link('app'), sync('app')), 'up');
  await applyInTransaction(app, buildMigration('app side', link('legacy'), ...appExtra, sync('legacy')), 'up');
}

/** Inserts on both sides at once, each without an id; returns the ids each side ends with. */
async function interleavedInserts(): Promise<[string[], string[]]> {
  const writers = await Promise.all([connect(pair.legacy, names.legacy), connect(pair.app, names.app)]);
  await Promise.all(
    writers.map(async (client, side) => {
      for (let n = 0; n < INSERTS_PER_SIDE; n += 1)
        await client.query('INSERT INTO products (name) VALUES ($1)', [`side ${side} #${n}`]);
    }),
  );
  await Promise.all(writers.map((client) => client.end()));
  const ids = async (client: pg.Client) =>
    (await client.query<{ id: string }>('SELECT id::text FROM products ORDER BY id')).rows.map((row) => row.id);
  return [await ids(legacy), await ids(app)];
}

describe('shared ids', () => {
  it('without them, a new product on legacy collides with one made on app (the seed failure)', async () => {
    await twoWay();
    await app.query(`INSERT INTO products (name) VALUES ('made on app')`);
    const error = (await legacy
      .query(`INSERT INTO products (name) VALUES ('made on legacy')`)
      .catch((caught: unknown) => caught)) as pg.DatabaseError;
    expect(error.code).toBe('23505');
    expect(error.message).toMatch(/duplicate key value violates unique constraint "products_pkey"/);
  });

  for (const strategy of ['per-row', 'block'] as SharedIdStrategy[]) {
    it(`${strategy}: ${2 * INSERTS_PER_SIDE} inserts interleaved on both sides, no collision, every row on both sides`, async () => {
      await applyInTransaction(
        legacy,
        buildMigration(
          'source',
          sharedIdSource({ table: 'products', column: 'id', strategy, blockSize: 100, blockBase: 1_000_000 }),
        ),
        'up',
      );
      await twoWay([
        sharedIds({
          server: 'legacy',
          table: 'products',
          column: 'id',
          strategy,
          blockSize: 100,
          blockBase: 1_000_000,
        }),
      ]);
      const [onLegacy, onApp] = await interleavedInserts();
      expect(onLegacy).toHaveLength(2 * INSERTS_PER_SIDE);
      expect(onApp).toEqual(onLegacy);
      if (strategy === 'block') {
        // Legacy's own inserts stay below the first block; app's come from blocks above it.
        const { rows } = await app.query(`SELECT count(*) FILTER (WHERE id >= 1000000)::int AS borrowed FROM products`);
        expect(rows[0].borrowed).toBe(INSERTS_PER_SIDE);
      }
    }, 120_000);

    it(`${strategy}: up then down restores the default and the sequences exactly`, async () => {
      const before = { legacy: await catalogSnapshot(legacy), app: await catalogSnapshot(app) };
      const source = buildMigration('source', sharedIdSource({ table: 'products', column: 'id', strategy }));
      const borrower = buildMigration(
        'ids',
        link('legacy'),
        sharedIds({ server: 'legacy', table: 'products', column: 'id', strategy }),
      );
      await applyInTransaction(legacy, source, 'up');
      await applyInTransaction(app, borrower, 'up');
      const { rows } = await app.query(
        `SELECT pg_get_expr(adbin, adrelid) AS expression FROM pg_attrdef WHERE adrelid = 'products'::regclass`,
      );
      expect(rows).toEqual([{ expression: 'products__id_next_id()' }]);
      await app.query(`INSERT INTO products (name) VALUES ('borrowed')`);
      await applyInTransaction(app, borrower, 'down');
      await applyInTransaction(legacy, source, 'down');
      expect(await catalogSnapshot(app)).toEqual(before.app);
      expect(await catalogSnapshot(legacy)).toEqual(before.legacy);
    });
  }

  it(`interleave: ${2 * INSERTS_PER_SIDE} inserts on both sides with no link for ids; even and odd ids`, async () => {
    await app.query(`INSERT INTO products (name) VALUES ('before'), ('before')`);
    const before = await catalogSnapshot(legacy);
    const plan = interleavedIdPlan({ table: 'products', column: 'id', slots: { app: 0, legacy: 1 }, startAbove: 2 });
    await twoWay([plan.app!], [plan.legacy!]);
    const [onLegacy, onApp] = await interleavedInserts();
    // The two rows app had before the sync are app's alone (a sync does not backfill).
    expect(onLegacy).toHaveLength(2 * INSERTS_PER_SIDE);
    expect(onApp.filter((id) => id !== '1' && id !== '2')).toEqual(onLegacy);
    const { rows } = await legacy.query(
      `SELECT count(*) FILTER (WHERE id % 2 = 1 AND id > 2)::int AS odd FROM products`,
    );
    expect(rows[0].odd).toBe(INSERTS_PER_SIDE);
    await applyInTransaction(legacy, buildMigration('legacy side', plan.legacy!, link('app'), sync('app')), 'down');
    expect(await catalogSnapshot(legacy)).toEqual(before);
  }, 120_000);

  it('refuses identity columns and a block base already in use, before changing anything', async () => {
    await app.query('CREATE TABLE things (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY)');
    const before = await catalogSnapshot(app);
    const identity = await applyInTransaction(
      app,
      buildMigration(
        'ids',
        link('legacy'),
        sharedIds({ server: 'legacy', table: 'things', column: 'id', strategy: 'per-row' }),
      ),
      'up',
    ).catch((caught: unknown) => caught);
    expect(identity).toBeInstanceOf(MigrationFailedError);
    expect((identity as Error).message).toMatch(/public\.things\.id is an identity column/);
    expect(await catalogSnapshot(app)).toEqual(before);

    await legacy.query(`INSERT INTO products (id, name) VALUES (5000000, 'far')`);
    const used = await applyInTransaction(
      legacy,
      buildMigration(
        'source',
        sharedIdSource({ table: 'products', column: 'id', strategy: 'block', blockBase: 1_000_000, blockSize: 100 }),
      ),
      'up',
    ).catch((caught: unknown) => caught);
    expect((used as Error).message).toMatch(
      /public\.products\.id is already at 5000000, past the first shared block at 1000000/,
    );
  });
});
