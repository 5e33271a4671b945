import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import {
  backfillTables,
  buildMigration,
  syncEndpoint,
  InvalidIdentifierError,
  InvalidOptionError,
  reconcileTables,
  sqlExpression,
  syncTrigger,
  verifyTables,
  type TablePairOptions,
} from '../../src/index.js';
import { applyInTransaction } from '../harness/apply.js';
import { PRODUCTS_DDL, readProducts } from '../harness/legacy-fixture.js';
import { linkTo } from '../harness/links.js';
import type { ServerPair } from '../harness/pair.js';
import { connectionString } from '../harness/server.js';
import { useServers } from '../harness/suite.js';

// app holds the local table (where a sync trigger would be), legacy the remote one.
let legacy: pg.Client;
let app: pg.Client;
let urls: { legacy: string; app: string };
let pair: ServerPair;
let names: { legacy: string; app: string };

const COLUMNS = ['id', 'name', 'description', 'price', 'created_at', 'updated_at'];
const PRODUCTS: TablePairOptions = { table: 'products', key: ['id'], columns: COLUMNS };
const ROWS = (
  count: number,
) => `INSERT INTO products SELECT g, 'product ' || g, CASE WHEN g % 7 = 0 THEN NULL ELSE 'about ' || g END,
  g % 5000, timestamp '2020-01-01 00:00:00.123456' + g * interval '1 second', timestamp '2024-01-01' FROM generate_series(1, ${count}) g`;

useServers('verify', async (servers) => {
  ({ legacy, app, pair, names } = servers);
  urls = {
    legacy: connectionString(servers.pair.legacy, servers.names.legacy),
    app: connectionString(servers.pair.app, servers.names.app),
  };
  await legacy.query(PRODUCTS_DDL);
  await app.query(PRODUCTS_DDL);
});

async function seedBoth(count: number): Promise<void> {
  await app.query(ROWS(count));
  await legacy.query(ROWS(count));
}

const ids = (keys: readonly Record<string, string | null>[]) => keys.map((key) => Number(key.id)).sort((a, b) => a - b);
const count = async (client: pg.Client, table = 'products') =>
  Number((await client.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);

describe('verifyTables', () => {
  it('finds two equal tables equal, through clients or URLs', async () => {
    await seedBoth(3000);
    const result = await verifyTables({ local: app, remote: legacy, tables: PRODUCTS });
    expect(result).toMatchObject({
      equal: true,
      counts: { local: 3000, remote: 3000 },
      missingOnRemote: [],
      missingOnLocal: [],
      differing: [],
      rowsFetched: 0,
    });
    expect((await verifyTables({ local: urls.app, remote: urls.legacy, tables: PRODUCTS })).equal).toBe(true);
  });

  it('pinpoints exactly the keys broken on each side, narrowing before it reads any key', async () => {
    await seedBoth(20_000);
    await legacy.query('DELETE FROM products WHERE id IN (5, 17001)');
    await app.query('DELETE FROM products WHERE id = 900');
    await legacy.query('UPDATE products SET price = price + 1 WHERE id = 42');
    await legacy.query(`UPDATE products SET description = NULL WHERE id = 43`); // NULL vs a value
    await app.query(`UPDATE products SET description = '' WHERE id = 49`); // '' vs NULL (49 = 7 * 7)
    await app.query(`UPDATE products SET updated_at = updated_at + interval '1 microsecond' WHERE id = 12345`);
    await legacy.query(`UPDATE products SET price = -1 WHERE id % 400 = 3`); // 50 more, in many buckets
    const result = await verifyTables({ local: app, remote: legacy, tables: PRODUCTS, bucketRows: 100 });
    expect(result.equal).toBe(false);
    expect(result.counts).toEqual({ local: 19_999, remote: 19_998 });
    expect(ids(result.missingOnRemote)).toEqual([5, 17001]);
    expect(ids(result.missingOnLocal)).toEqual([900]);
    const every400th = Array.from({ length: 50 }, (_, index) => 400 * index + 3);
    expect(ids(result.differing)).toEqual([...every400th, 42, 43, 49, 12345].sort((a, b) => a - b));
    expect(result.missingOnRemote[0]).toEqual({ id: '5' });
    // 57 of 256 buckets differ: a second, finer pass, then only a few rows' keys and hashes are read.
    expect(result.passes).toBe(2);
    expect(result.rowsFetched).toBeLessThan(300);
  });

  it('compares through the column mapping of a syncTrigger node: renamed and computed columns', async () => {
    await app.query(ROWS(500));
    await legacy.query(
      `CREATE TABLE items (item_id bigint PRIMARY KEY, title text NOT NULL, cheap boolean, cents integer)`,
    );
    await legacy.query(
      `INSERT INTO items SELECT g, 'product ' || g, g % 5000 < 1000, g % 5000 * 100 FROM generate_series(1, 500) g`,
    );
    const sync = syncTrigger({
      server: 'legacy',
      table: 'products',
      remote: { name: 'items' },
      key: ['item_id'],
      columns: [
        { remote: 'item_id', local: 'id' },
        { remote: 'title', local: 'name' },
        { remote: 'cheap', expression: sqlExpression('src.price < 1000') },
        { remote: 'cents', expression: sqlExpression('src.price * 100') },
      ],
    });
    expect((await verifyTables({ local: app, remote: legacy, tables: sync })).equal).toBe(true);
    await app.query(`UPDATE products SET name = 'renamed' WHERE id = 7`);
    await app.query(`UPDATE products SET price = 2000 WHERE id = 8`); // flips cheap and cents
    await legacy.query(`UPDATE items SET cheap = NULL WHERE item_id = 9`);
    const result = await verifyTables({ local: app, remote: legacy, tables: sync });
    expect(result.differing.map((key) => Number(key.item_id)).sort((a, b) => a - b)).toEqual([7, 8, 9]);
  });

  it('compares values by their text form in the same settings on both sides, whatever the sessions use', async () => {
    for (const client of [app, legacy])
      await client.query(`CREATE TABLE events (id int PRIMARY KEY, at timestamptz, amount float8, span interval)`);
    await app.query(
      `INSERT INTO events VALUES (1, '2024-03-01 12:00:00.5+00', 0.1::float8 + 0.2::float8, '1 day 2 hours')`,
    );
    await legacy.query(
      `INSERT INTO events VALUES (1, '2024-03-01 14:00:00.5+02', 0.30000000000000004, '26 hours'::interval - '24 hours'::interval + '1 day')`,
    );
    await legacy.query(
      `SET TimeZone = 'America/New_York'; SET DateStyle = 'German'; SET extra_float_digits = -3; SET IntervalStyle = 'iso_8601'`,
    );
    const events = { table: 'events', key: ['id'], columns: ['id', 'at', 'amount', 'span'] };
    expect(await verifyTables({ local: app, remote: legacy, tables: events })).toMatchObject({ equal: true });
    // The caller's session settings are left as they were.
    expect((await legacy.query('SHOW TimeZone')).rows[0].TimeZone).toBe('America/New_York');
    await legacy.query(`UPDATE events SET amount = 0.3`);
    expect((await verifyTables({ local: app, remote: legacy, tables: events })).differing).toEqual([{ id: '1' }]);
  });

  it('takes composite and text keys', async () => {
    for (const client of [app, legacy])
      await client.query(`CREATE TABLE stock (region text, code int, qty int, PRIMARY KEY (region, code))`);
    for (const client of [app, legacy])
      await client.query(
        `INSERT INTO stock SELECT r, g, g FROM unnest(ARRAY['north', 'south', 'O''Neil, "quoted"']) r, generate_series(1, 400) g`,
      );
    await legacy.query(`UPDATE stock SET qty = 0 WHERE region = 'O''Neil, "quoted"' AND code = 3`);
    await app.query(`DELETE FROM stock WHERE region = 'south' AND code = 400`);
    const stock = { table: 'stock', key: ['region', 'code'], columns: ['region', 'code', 'qty'] };
    const result = await verifyTables({ local: app, remote: legacy, tables: stock, bucketRows: 50 });
    expect(result.differing).toEqual([{ region: 'O\'Neil, "quoted"', code: '3' }]);
    expect(result.missingOnLocal).toEqual([{ region: 'south', code: '400' }]);
    await reconcileTables({ local: app, remote: legacy, tables: stock, winner: 'local', batchSize: 1 });
    expect((await verifyTables({ local: app, remote: legacy, tables: stock })).equal).toBe(true);
    expect(await count(legacy, 'stock')).toBe(1199);
  });
});

describe('backfillTables', () => {
  it('copies the rows that existed before the sync, then verify finds both sides equal; running again writes nothing', async () => {
    await app.query(ROWS(2500));
    await legacy.query(`${ROWS(100)} `);
    await legacy.query(`UPDATE products SET name = 'stale' WHERE id <= 10`);
    await legacy.query(`INSERT INTO products VALUES (9999, 'only on legacy', NULL, 1, now(), now())`);
    const progress: string[] = [];
    const result = await backfillTables({
      local: app,
      remote: legacy,
      tables: PRODUCTS,
      batchSize: 500,
      onProgress: (step) => progress.push(`${step.phase} ${step.done}/${step.total}`),
    });
    expect(result).toMatchObject({ complete: true, written: 2410, deleted: 0, batches: 5 });
    expect(progress).toContain('copy 2410/2410');
    const after = await verifyTables({ local: app, remote: legacy, tables: PRODUCTS });
    // Backfill leaves rows only on the remote side alone.
    expect(after).toMatchObject({ missingOnRemote: [], differing: [], missingOnLocal: [{ id: '9999' }] });
    expect(await readProducts(legacy, { name: 'products' })).toEqual([
      ...(await readProducts(app, { name: 'products' })),
      ...(await readProducts(legacy, { name: 'products' })).slice(-1),
    ]);
    const xmin = (await legacy.query('SELECT sum(xmin::text::bigint) AS x FROM products')).rows[0].x;
    const again = await backfillTables({ local: app, remote: legacy, tables: PRODUCTS });
    expect(again).toMatchObject({ complete: true, written: 0, batches: 0 });
    expect((await legacy.query('SELECT sum(xmin::text::bigint) AS x FROM products')).rows[0].x).toBe(xmin);
  });

  it('stops after maxBatches or an abort and resumes where it stopped, without duplicates', async () => {
    await app.query(ROWS(1000));
    const first = await backfillTables({ local: app, remote: legacy, tables: PRODUCTS, batchSize: 100, maxBatches: 3 });
    expect(first).toMatchObject({ complete: false, written: 300, batches: 3 });
    expect(await count(legacy)).toBe(300);
    const controller = new AbortController();
    const second = await backfillTables({
      local: urls.app,
      remote: urls.legacy,
      tables: PRODUCTS,
      batchSize: 100,
      signal: controller.signal,
      onProgress: (step) => {
        if (step.phase === 'copy' && step.done >= 200) controller.abort();
      },
    });
    expect(second).toMatchObject({ complete: false, written: 200, batches: 2 });
    expect(second.before.missingOnRemote).toHaveLength(700);
    const last = await backfillTables({ local: app, remote: legacy, tables: PRODUCTS, batchSize: 100 });
    expect(last).toMatchObject({ complete: true, written: 500, batches: 5 });
    expect(await count(legacy)).toBe(1000);
    expect((await verifyTables({ local: app, remote: legacy, tables: PRODUCTS })).equal).toBe(true);
  });

  it('writes renamed and computed columns as the sync would', async () => {
    await app.query(ROWS(300));
    await legacy.query(
      `CREATE TABLE items (item_id bigint PRIMARY KEY, title text NOT NULL, cents integer, tags jsonb, note text DEFAULT 'kept')`,
    );
    await legacy.query(`INSERT INTO items (item_id, title, cents, note) VALUES (1, 'old', 0, 'mine')`);
    const items = {
      table: 'products',
      remote: { name: 'items' },
      key: ['item_id'],
      columns: [
        { remote: 'item_id', local: 'id' },
        { remote: 'title', local: 'name' },
        { remote: 'cents', expression: sqlExpression('src.price * 100') },
        { remote: 'tags', expression: sqlExpression(`jsonb_build_object('odd', src.id % 2 = 1, 'q', 'a"b')`) },
      ],
    };
    expect((await backfillTables({ local: app, remote: legacy, tables: items })).written).toBe(300);
    expect((await verifyTables({ local: app, remote: legacy, tables: items })).equal).toBe(true);
    const { rows } = await legacy.query(
      `SELECT title, cents, tags, note FROM items WHERE item_id IN (1, 2) ORDER BY item_id`,
    );
    expect(rows).toEqual([
      { title: 'product 1', cents: 100, tags: { odd: true, q: 'a"b' }, note: 'mine' }, // unmapped columns keep their value
      { title: 'product 2', cents: 200, tags: { odd: false, q: 'a"b' }, note: 'kept' },
    ]);
  });
});

describe('keys and names of every kind', () => {
  it('a key computed by an expression, on a table whose only column is the key', async () => {
    await app.query(`CREATE TABLE codes (id int PRIMARY KEY); INSERT INTO codes SELECT generate_series(1, 250)`);
    await legacy.query(
      `CREATE TABLE codes (code text PRIMARY KEY); INSERT INTO codes VALUES ('P1'), ('P2'), ('stray')`,
    );
    const codes = {
      table: 'codes',
      key: ['code'],
      columns: [{ remote: 'code', expression: sqlExpression(`'P' || src.id`) }],
    };
    const first = await reconcileTables({ local: app, remote: legacy, tables: codes, winner: 'local', batchSize: 100 });
    expect(first).toMatchObject({ complete: true, written: 248, deleted: 1 });
    expect((await verifyTables({ local: app, remote: legacy, tables: codes })).equal).toBe(true);
    expect(await reconcileTables({ local: app, remote: legacy, tables: codes, winner: 'local' })).toMatchObject({
      written: 0,
      deleted: 0,
      batches: 0,
    });
  });

  it('values whose text form is awkward in an array, typed keys, an enum and a domain in another schema', async () => {
    // Rows travel as one text array per column and are cast to each column's type on arrival.
    const ddl = `CREATE SCHEMA kinds; CREATE TYPE kinds.mood AS ENUM ('ok', 'sad');
      CREATE DOMAIN kinds.positive AS numeric CHECK (VALUE > 0);
      CREATE TABLE oddities (at timestamptz, code char(4), doc json, body jsonb, tags text[], nums int[], raw bytea,
        amount numeric(12, 4), mood kinds.mood, pos kinds.positive, note text, PRIMARY KEY (at, code))`;
    const rows = (from: number, to: number) => `INSERT INTO oddities SELECT
      timestamptz '2024-03-01 12:00:00.123456+02' + g * interval '1 hour', 'c' || g, '{"b": 1,  "a": "x\\"y"}',
      jsonb_build_object('k', g, 'q', $$a,b{c}"d\\e$$, 'nil', NULL),
      CASE WHEN g % 6 = 0 THEN '{}' ELSE ARRAY['a,b', '{x}', '"q"', $$back\\slash$$, 'NULL', NULL, ''] END,
      CASE WHEN g % 3 = 0 THEN NULL ELSE ARRAY[g, -g] END,
      CASE WHEN g % 4 = 0 THEN NULL ELSE decode(md5(g::text), 'hex') || '\\x005c'::bytea END,
      g * 1.5, CASE WHEN g % 2 = 0 THEN 'ok' ELSE 'sad' END::kinds.mood, g + 0.25,
      CASE g % 5 WHEN 0 THEN NULL WHEN 1 THEN 'NULL' WHEN 2 THEN '' ELSE E'line\\nbreak, "quote" \\\\ back {}' END
      FROM generate_series(${from}, ${to}) g`;
    for (const client of [app, legacy]) await client.query(ddl);
    await app.query(rows(1, 30));
    await legacy.query(
      `${rows(1, 2)}; ${rows(40, 41)}; UPDATE oddities SET note = 'stale', tags = '{}' WHERE code = 'c2'`,
    );
    const oddities = {
      table: 'oddities',
      key: ['at', 'code'],
      columns: ['at', 'code', 'doc', 'body', 'tags', 'nums', 'raw', 'amount', 'mood', 'pos', 'note'],
    };
    const dump = async (client: pg.Client) =>
      (await client.query(`SELECT o::text AS row FROM oddities o ORDER BY at, code`)).rows.map((row) => row.row);
    const local = await reconcileTables({
      local: app,
      remote: legacy,
      tables: oddities,
      winner: 'local',
      batchSize: 7,
    });
    expect(local).toMatchObject({ complete: true, written: 29, deleted: 2 });
    expect(await dump(legacy)).toEqual(await dump(app));
    expect(await reconcileTables({ local: app, remote: legacy, tables: oddities, winner: 'local' })).toMatchObject({
      written: 0,
      deleted: 0,
    });
    // The other way: keys read on the remote side and deleted on the local one, through the same casts.
    await app.query(`${rows(50, 51)}; UPDATE oddities SET body = '[]', nums = '{7}' WHERE code IN ('c3', 'c4')`);
    const remote = await reconcileTables({ local: app, remote: legacy, tables: oddities, winner: 'remote' });
    expect(remote).toMatchObject({ complete: true, written: 2, deleted: 2 });
    expect(await dump(app)).toEqual(await dump(legacy));
  });

  it('a same-database sync node: both sides on one database, through two connections', async () => {
    await app.query(
      `CREATE TABLE users (id int PRIMARY KEY, email text); CREATE TABLE accounts (user_id int PRIMARY KEY, contact text)`,
    );
    await app.query(`INSERT INTO users SELECT g, 'u' || g || '@example.com' FROM generate_series(1, 300) g`);
    await app.query(`INSERT INTO accounts VALUES (1, 'u1@example.com'), (2, 'someone else'), (999, 'gone')`);
    const local = syncTrigger({
      table: 'users',
      target: 'accounts',
      key: ['user_id'],
      columns: [
        { remote: 'user_id', local: 'id' },
        { remote: 'contact', local: 'email' },
      ],
    });
    const before = await verifyTables({ local: urls.app, remote: urls.app, tables: local });
    expect(before).toMatchObject({
      counts: { local: 300, remote: 3 },
      differing: [{ user_id: '2' }],
      missingOnLocal: [{ user_id: '999' }],
    });
    expect(await reconcileTables({ local: urls.app, remote: urls.app, tables: local, winner: 'local' })).toMatchObject({
      written: 299,
      deleted: 1,
    });
    expect((await verifyTables({ local: urls.app, remote: urls.app, tables: local })).equal).toBe(true);
  });

  it('quotes hostile table and column names on both sides', async () => {
    const table = { schema: 'My "Schema"', name: 'weird.table; --' };
    const quoted = `"My ""Schema"""."weird.table; --"`;
    for (const client of [app, legacy]) {
      await client.query(
        `CREATE SCHEMA "My ""Schema"""; CREATE TABLE ${quoted} ("select" int PRIMARY KEY, "a b" text, "O'Brien" text)`,
      );
    }
    await app.query(`INSERT INTO ${quoted} SELECT g, 'v' || g, $$it's \\ "x"$$ FROM generate_series(1, 40) g`);
    await legacy.query(`INSERT INTO ${quoted} VALUES (1, 'v1', NULL), (99, 'gone', 'x')`);
    const tables = { table, remote: table, key: ['select'], columns: ['select', 'a b', `O'Brien`] };
    const before = await verifyTables({ local: app, remote: legacy, tables });
    expect(before.missingOnRemote).toHaveLength(39);
    expect(before.missingOnLocal).toEqual([{ select: '99' }]);
    expect(before.differing).toEqual([{ select: '1' }]);
    await reconcileTables({ local: urls.app, remote: urls.legacy, tables, winner: 'local' });
    expect((await verifyTables({ local: app, remote: legacy, tables })).equal).toBe(true);
    const { rows } = await legacy.query(`SELECT "O'Brien" AS o FROM ${quoted} WHERE "select" = 2`);
    expect(rows[0].o).toBe(`it's \\ "x"`);
  });
});

describe('with the sync installed', () => {
  it('backfills the rows that were there before the trigger, and the sync keeps both sides equal after', async () => {
    await app.query(ROWS(1200));
    const columns = [
      'id',
      { remote: 'name', expression: sqlExpression('upper(src.name)') },
      'description',
      'price',
      'created_at',
      'updated_at',
    ];
    const sync = syncTrigger({ server: 'legacy', table: 'products', key: ['id'], columns });
    await applyInTransaction(
      legacy,
      buildMigration('endpoint', syncEndpoint({ table: 'products', key: ['id'], columns: COLUMNS })),
      'up',
    );
    await applyInTransaction(
      app,
      buildMigration('sync', linkTo(pair.legacy, names.legacy, 'VERIFY_LEGACY_PASSWORD'), sync),
      'up',
    );
    await app.query(`INSERT INTO products VALUES (5000, 'after', NULL, 1, now(), now())`);
    const before = await verifyTables({ local: app, remote: legacy, tables: sync });
    expect(before).toMatchObject({ counts: { local: 1201, remote: 1 }, missingOnLocal: [], differing: [] });
    expect(before.missingOnRemote).toHaveLength(1200);
    expect(await backfillTables({ local: app, remote: legacy, tables: sync, batchSize: 250 })).toMatchObject({
      complete: true,
      written: 1200,
      batches: 5,
    });
    await app.query(`UPDATE products SET name = 'changed' WHERE id <= 10`);
    expect((await verifyTables({ local: app, remote: legacy, tables: sync })).equal).toBe(true);
    expect((await legacy.query(`SELECT name FROM products WHERE id = 1`)).rows[0].name).toBe('CHANGED');
  });
});

describe('reconcileTables', () => {
  const breakBoth = async () => {
    await seedBoth(1000);
    await legacy.query('DELETE FROM products WHERE id IN (1, 2)');
    await app.query('DELETE FROM products WHERE id = 3');
    await legacy.query(`UPDATE products SET name = 'legacy says' WHERE id = 4`);
    await app.query(`UPDATE products SET price = NULL WHERE id = 5`);
  };

  it('winner local: the remote side becomes equal, rows only there are deleted', async () => {
    await breakBoth();
    const result = await reconcileTables({
      local: app,
      remote: legacy,
      tables: PRODUCTS,
      winner: 'local',
      batchSize: 2,
    });
    expect(result).toMatchObject({ complete: true, written: 4, deleted: 1 });
    expect((await verifyTables({ local: app, remote: legacy, tables: PRODUCTS })).equal).toBe(true);
    expect(await readProducts(legacy, { name: 'products' })).toEqual(await readProducts(app, { name: 'products' }));
    expect((await app.query('SELECT price FROM products WHERE id = 5')).rows[0].price).toBeNull();
  });

  it('winner remote: the local side becomes equal, through renamed columns', async () => {
    await breakBoth();
    await legacy.query('ALTER TABLE products RENAME COLUMN name TO title');
    const renamed = {
      table: 'products',
      key: ['id'],
      columns: ['id', { remote: 'title', local: 'name' }, 'description', 'price', 'created_at', 'updated_at'],
    };
    const result = await reconcileTables({ local: app, remote: legacy, tables: renamed, winner: 'remote' });
    expect(result).toMatchObject({ complete: true, written: 3, deleted: 2 });
    expect((await verifyTables({ local: app, remote: legacy, tables: renamed })).equal).toBe(true);
    expect((await app.query('SELECT name FROM products WHERE id = 4')).rows[0].name).toBe('legacy says');
    expect(await count(app)).toBe(998);
  });

  it('refuses to write back through an expression, or into a table without a unique key, before writing anything', async () => {
    await breakBoth();
    const computed = {
      table: 'products',
      key: ['id'],
      columns: ['id', { remote: 'name', expression: sqlExpression('upper(src.name)') }],
    };
    await expect(reconcileTables({ local: app, remote: legacy, tables: computed, winner: 'remote' })).rejects.toThrow(
      /column "name" is computed by an expression there, so its value cannot be written back\. Make the local side the winner instead/,
    );
    await legacy.query('ALTER TABLE products DROP CONSTRAINT products_pkey');
    await expect(reconcileTables({ local: app, remote: legacy, tables: PRODUCTS, winner: 'local' })).rejects.toThrow(
      /has no primary key or unique index on exactly the key \(id\)/,
    );
    expect(await count(legacy)).toBe(998);
    expect(await count(app)).toBe(999);
  });
});

describe('bad input', () => {
  it('gets a typed error that says what to fix, and nothing is written', async () => {
    await app.query(ROWS(10));
    const attempt = (tables: unknown) =>
      backfillTables({ local: app, remote: legacy, tables: tables as TablePairOptions });
    await expect(attempt({ ...PRODUCTS, table: 'prodcts' })).rejects.toThrow(
      /Table "public"\."prodcts" on the local side .* does not exist/,
    );
    await expect(attempt({ ...PRODUCTS, remote: { name: 'nope' } })).rejects.toThrow(
      /Table "public"\."nope" on the remote side .* does not exist/,
    );
    await expect(attempt({ ...PRODUCTS, columns: [...COLUMNS, 'colour'] })).rejects.toThrow(
      /on the local side .* has no column "colour"\. Its columns: id, name/,
    );
    await expect(
      attempt({ ...PRODUCTS, columns: [...COLUMNS, { remote: 'name2', expression: sqlExpression('src.nam') }] }),
    ).rejects.toThrow(InvalidOptionError);
    await expect(attempt({ table: 'products', columns: COLUMNS })).rejects.toThrow(
      /needs a key: the remote columns that identify a row/,
    );
    await expect(attempt({ ...PRODUCTS, key: ['sku'] })).rejects.toThrow(/key column "sku" is not among the columns/);
    await expect(attempt({ ...PRODUCTS, table: '' })).rejects.toThrow(InvalidIdentifierError);
    await expect(attempt({ ...PRODUCTS, colums: [] })).rejects.toThrow(/Did you mean "columns"/);
    await expect(backfillTables({ local: app, remote: legacy, tables: PRODUCTS, batchSize: 0 })).rejects.toThrow(
      /batchSize must be a whole number/,
    );
    await expect(verifyTables({ local: app, remote: app, tables: PRODUCTS })).rejects.toThrow(
      /local and remote are the same pg Client/,
    );
    await legacy.query(`CREATE TABLE tags (code text UNIQUE, label text)`);
    await app.query(
      `CREATE TABLE tags (code text UNIQUE, label text); INSERT INTO tags VALUES (NULL, 'no code'), ('a', 'A')`,
    );
    const tags = { table: 'tags', key: ['code'], columns: ['code', 'label'] };
    await expect(backfillTables({ local: app, remote: legacy, tables: tags })).rejects.toThrow(
      /Key column "code" is NULL in a row on the local side/,
    );
    expect(await count(legacy, 'tags')).toBe(0);
    expect(await count(legacy)).toBe(0);
  });
});
