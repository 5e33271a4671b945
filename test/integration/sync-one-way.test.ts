import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import {
  buildMigration,
  MigrationFailedError,
  sqlExpression,
  syncEndpoint,
  syncTrigger,
  type Migration,
} from '../../src/index.js';
import { applyInTransaction } from '../harness/apply.js';
import { catalogSnapshot } from '../harness/catalog.js';
import { PRODUCTS_DDL, readProducts } from '../harness/legacy-fixture.js';
import type { ServerPair } from '../harness/pair.js';
import { linkTo } from '../harness/links.js';
import { uniqueRole } from '../harness/roles.js';
import { useServers } from '../harness/suite.js';

// One-way: every change to app.products is written through to legacy.products.
const COLUMNS = ['id', 'name', 'description', 'price', 'created_at', 'updated_at'];

let pair: ServerPair;
let legacy: pg.Client;
let app: pg.Client;
let legacyDb: string;

function link() {
  return linkTo(pair.legacy, legacyDb, 'SYNC_LEGACY_PASSWORD');
}

const endpoint = () => buildMigration('endpoint', syncEndpoint({ table: 'products', key: ['id'], columns: COLUMNS }));
const sender = () =>
  buildMigration('sync', link(), syncTrigger({ server: 'legacy', table: 'products', key: ['id'], columns: COLUMNS }));

async function install(...extra: Migration[]): Promise<void> {
  await applyInTransaction(legacy, endpoint(), 'up');
  await applyInTransaction(app, sender(), 'up');
  for (const migration of extra) await applyInTransaction(app, migration, 'up');
}

useServers('sync1', async (servers) => {
  ({ pair, legacy, app } = servers);
  legacyDb = servers.names.legacy;
  process.env.SYNC_LEGACY_PASSWORD = pair.legacy.password;
  await legacy.query(PRODUCTS_DDL);
  await app.query(PRODUCTS_DDL);
});

const insertRows = `INSERT INTO products (id, name, description, price, created_at, updated_at) VALUES
  (1, 'Kettle', 'Stainless, 1.7 l', 2999, '2020-01-02 03:04:05.123456', '2021-06-07 08:09:10'),
  (2, 'O''Brien''s mug', NULL, 850, '2020-02-03 04:05:06', '2020-02-03 04:05:06'),
  (3, 'Tea \\ leaves "loose" ✓', 'ünïcødé', NULL, '2019-12-31 23:59:59.999999', '2020-01-01 00:00:00')`;

describe('one-way sync', () => {
  it('copies inserts, updates and deletes exactly', async () => {
    await install();
    await app.query(insertRows);
    expect(await readProducts(legacy, { name: 'products' })).toEqual(await readProducts(app, { name: 'products' }));
    await app.query(`UPDATE products SET price = price + 1, updated_at = '2030-01-01 00:00:00.000001' WHERE id <> 2`);
    await app.query('DELETE FROM products WHERE id = 2');
    const rows = await readProducts(app, { name: 'products' });
    expect(rows).toHaveLength(2);
    expect(await readProducts(legacy, { name: 'products' })).toEqual(rows);
  });

  it('a local rollback leaves the remote untouched', async () => {
    await install();
    await app.query('BEGIN');
    await app.query(insertRows);
    await app.query('ROLLBACK');
    expect(await readProducts(legacy, { name: 'products' })).toEqual([]);
  });

  it('an insert of a key that exists remotely overwrites it; a key-changing update moves it', async () => {
    await install();
    await legacy.query(`INSERT INTO products VALUES (1, 'stale', 'old', 1, '2000-01-01', '2000-01-01')`);
    await app.query(insertRows);
    expect(await readProducts(legacy, { name: 'products' })).toEqual(await readProducts(app, { name: 'products' }));
    // 1 -> 10 and 2 -> 1 in one statement: key 2 vanishes, 1 and 10 hold the moved rows.
    await app.query('UPDATE products SET id = CASE id WHEN 1 THEN 10 WHEN 2 THEN 1 END WHERE id IN (1, 2)');
    const rows = await readProducts(app, { name: 'products' });
    expect(rows.map((row) => (row as { id: string }).id)).toEqual(['1', '3', '10']);
    expect(await readProducts(legacy, { name: 'products' })).toEqual(rows);
  });

  it('a failed remote write fails the local statement, naming the link and table', async () => {
    await legacy.query('ALTER TABLE products ADD CONSTRAINT price_positive CHECK (price > 0)');
    await install();
    const error = await app
      .query(`INSERT INTO products VALUES (7, 'free', NULL, 0, now(), now())`)
      .catch((caught: unknown) => caught as pg.DatabaseError);
    expect(error).toBeInstanceOf(Error);
    expect((error as pg.DatabaseError).message).toMatch(
      /^pg-sync-link: INSERT not synced from public\.products to public\.products on server legacy: new row for relation "products" violates check constraint "price_positive"/,
    );
    expect((error as pg.DatabaseError).code).toBe('23514');
    const local = await app.query('SELECT count(*)::int AS n FROM products');
    expect(local.rows[0].n).toBe(0);
  });

  it("works whatever the caller's search_path, and for roles without their own user mapping", async () => {
    await install();
    const clerk = uniqueRole('clerk');
    await app.query(`CREATE ROLE ${clerk}`);
    await app.query(`GRANT INSERT, UPDATE, DELETE, SELECT ON products TO ${clerk}`);
    await app.query('BEGIN');
    await app.query(`SET LOCAL ROLE ${clerk}`);
    await app.query(`SET LOCAL search_path = ''`);
    await app.query(`INSERT INTO public.products VALUES (5, 'as clerk', NULL, 5, '2020-01-01', '2020-01-01')`);
    await app.query('COMMIT');
    expect(await readProducts(legacy, { name: 'products' })).toEqual(await readProducts(app, { name: 'products' }));
    await app.query(`DROP OWNED BY ${clerk}; DROP ROLE ${clerk}`);
  });

  it('maps renamed columns and computes others from the local row', async () => {
    await legacy.query(
      `CREATE TABLE timesheet_old (id bigint PRIMARY KEY, worker_id bigint, hospital_id bigint, status text, is_approved boolean)`,
    );
    await app.query(`CREATE TABLE timesheet_options (id bigint PRIMARY KEY, hospital_id bigint)`);
    await app.query(
      `CREATE TABLE timesheet_new (id bigint PRIMARY KEY, worker bigint, status text, timesheet_options_id bigint REFERENCES timesheet_options)`,
    );
    const columns = ['id', 'worker_id', 'hospital_id', 'status', 'is_approved'];
    await applyInTransaction(
      legacy,
      buildMigration('endpoint', syncEndpoint({ table: 'timesheet_old', key: ['id'], columns })),
      'up',
    );
    const sync = syncTrigger({
      server: 'legacy',
      table: 'timesheet_new',
      remote: { name: 'timesheet_old' },
      key: ['id'],
      columns: [
        'id',
        { remote: 'worker_id', local: 'worker' },
        {
          remote: 'hospital_id',
          expression: sqlExpression(
            'SELECT o.hospital_id FROM public.timesheet_options AS o WHERE o.id = src.timesheet_options_id',
          ),
        },
        'status',
        { remote: 'is_approved', expression: sqlExpression(`src.status = 'approved'`) },
      ],
    });
    await applyInTransaction(app, buildMigration('sync', link(), sync), 'up');
    await app.query('INSERT INTO timesheet_options VALUES (14, 15)');
    await app.query(`INSERT INTO timesheet_new VALUES (1, 33, 'approved', 14), (2, 34, 'pending', NULL)`);
    await app.query(`UPDATE timesheet_new SET status = 'approved' WHERE id = 2`);
    const { rows } = await legacy.query(
      'SELECT id::int, worker_id::int, hospital_id::int, status, is_approved FROM timesheet_old ORDER BY id',
    );
    expect(rows).toEqual([
      { id: 1, worker_id: 33, hospital_id: 15, status: 'approved', is_approved: true },
      { id: 2, worker_id: 34, hospital_id: null, status: 'approved', is_approved: true },
    ]);
  });

  it('a computed key that changes deletes the old remote row', async () => {
    await legacy.query(`CREATE TABLE codes (code text PRIMARY KEY, label text)`);
    await app.query(`CREATE TABLE items (id int PRIMARY KEY, label text)`);
    await applyInTransaction(
      legacy,
      buildMigration('endpoint', syncEndpoint({ table: 'codes', key: ['code'], columns: ['code', 'label'] })),
      'up',
    );
    const sync = syncTrigger({
      server: 'legacy',
      table: 'items',
      remote: { name: 'codes' },
      key: ['code'],
      columns: [{ remote: 'code', expression: sqlExpression(`'C-' || src.id`) }, 'label'],
    });
    await applyInTransaction(app, buildMigration('sync', link(), sync), 'up');
    await app.query(`INSERT INTO items VALUES (1, 'one'), (2, 'two')`);
    await app.query('UPDATE items SET id = id + 10');
    const { rows } = await legacy.query('SELECT code, label FROM codes ORDER BY code');
    expect(rows).toEqual([
      { code: 'C-11', label: 'one' },
      { code: 'C-12', label: 'two' },
    ]);
  });

  it('at commit: rows are sent as they are when the transaction commits', async () => {
    await legacy.query(`CREATE TABLE timesheet_old (id bigint PRIMARY KEY, hospital_id bigint, status text)`);
    await app.query(`CREATE TABLE timesheet_options (id bigint PRIMARY KEY, hospital_id bigint)`);
    await app.query(`CREATE TABLE timesheet_new (id bigint PRIMARY KEY, status text, timesheet_options_id bigint)`);
    await applyInTransaction(
      legacy,
      buildMigration(
        'endpoint',
        syncEndpoint({ table: 'timesheet_old', key: ['id'], columns: ['id', 'hospital_id', 'status'] }),
      ),
      'up',
    );
    const sync = syncTrigger({
      server: 'legacy',
      table: 'timesheet_new',
      remote: { name: 'timesheet_old' },
      key: ['id'],
      timing: 'commit',
      columns: [
        'id',
        {
          remote: 'hospital_id',
          expression: sqlExpression(
            'SELECT o.hospital_id FROM public.timesheet_options AS o WHERE o.id = src.timesheet_options_id',
          ),
        },
        'status',
      ],
    });
    await applyInTransaction(app, buildMigration('sync', link(), sync), 'up');
    const remote = async () =>
      (await legacy.query('SELECT id::int, hospital_id::int, status FROM timesheet_old ORDER BY id')).rows;

    // The timesheet comes first, its options row later in the same transaction.
    await app.query('BEGIN');
    await app.query(`INSERT INTO timesheet_new VALUES (1, 'pending', 14), (2, 'pending', 14), (3, 'pending', NULL)`);
    await app.query(`UPDATE timesheet_new SET status = 'approved' WHERE id = 1`);
    await app.query('INSERT INTO timesheet_options VALUES (14, 15)');
    expect(await remote()).toEqual([]);
    await app.query('COMMIT');
    expect(await remote()).toEqual([
      { id: 1, hospital_id: 15, status: 'approved' },
      { id: 2, hospital_id: 15, status: 'pending' },
      { id: 3, hospital_id: null, status: 'pending' },
    ]);

    await app.query('BEGIN');
    await app.query('DELETE FROM timesheet_new WHERE id = 3');
    await app.query('UPDATE timesheet_new SET id = 20 WHERE id = 2');
    await app.query('ROLLBACK');
    expect(await remote()).toHaveLength(3);
    await app.query('DELETE FROM timesheet_new WHERE id = 3');
    await app.query('UPDATE timesheet_new SET id = 20 WHERE id = 2');
    expect(await remote()).toEqual([
      { id: 1, hospital_id: 15, status: 'approved' },
      { id: 20, hospital_id: 15, status: 'pending' },
    ]);
  });

  it('at commit: a failed remote write fails the commit, and nothing is kept on either side', async () => {
    await legacy.query('ALTER TABLE products ADD CONSTRAINT price_positive CHECK (price > 0)');
    await applyInTransaction(legacy, endpoint(), 'up');
    await applyInTransaction(
      app,
      buildMigration(
        'sync',
        link(),
        syncTrigger({ server: 'legacy', table: 'products', key: ['id'], columns: COLUMNS, timing: 'commit' }),
      ),
      'up',
    );
    await app.query('BEGIN');
    await app.query(`INSERT INTO products VALUES (7, 'free', NULL, 0, now(), now())`);
    const error = (await app.query('COMMIT').catch((caught: unknown) => caught)) as Error;
    expect(error).toBeInstanceOf(Error);
    expect(error!.message).toMatch(/^pg-sync-link: INSERT not synced from public\.products/);
    expect((await app.query('SELECT count(*)::int AS n FROM products')).rows[0].n).toBe(0);
    expect((await legacy.query('SELECT count(*)::int AS n FROM products')).rows[0].n).toBe(0);
  });

  it('only the chosen operations are sent', async () => {
    await applyInTransaction(legacy, endpoint(), 'up');
    const insertsOnly = syncTrigger({
      server: 'legacy',
      table: 'products',
      key: ['id'],
      columns: COLUMNS,
      operations: ['insert'],
    });
    await applyInTransaction(app, buildMigration('sync', link(), insertsOnly), 'up');
    await app.query(insertRows);
    await app.query('UPDATE products SET price = 1');
    await app.query('DELETE FROM products WHERE id = 1');
    const { rows } = await legacy.query('SELECT count(*)::int AS n, sum(price)::int AS total FROM products');
    expect(rows).toEqual([{ n: 3, total: 2999 + 850 }]);
  });
});

describe('setting up a sync', () => {
  it('up then down leaves both catalogs exactly as they were', async () => {
    const before = { legacy: await catalogSnapshot(legacy), app: await catalogSnapshot(app) };
    await install();
    await app.query(insertRows);
    await applyInTransaction(app, sender(), 'down');
    await applyInTransaction(legacy, endpoint(), 'down');
    await legacy.query('TRUNCATE products');
    await app.query('TRUNCATE products');
    expect(await catalogSnapshot(legacy)).toEqual(before.legacy);
    expect(await catalogSnapshot(app)).toEqual(before.app);
  });

  it('an unknown local column fails the migration with what to fix, leaving nothing', async () => {
    await applyInTransaction(legacy, endpoint(), 'up');
    const before = await catalogSnapshot(app);
    const broken = buildMigration(
      'sync',
      link(),
      syncTrigger({ server: 'legacy', table: 'products', key: ['id'], columns: ['id', 'nme'] }),
    );
    const error = await applyInTransaction(app, broken, 'up').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MigrationFailedError);
    expect((error as Error).message).toMatch(
      /cannot set up the sync of public\.products to server legacy: column src\.nme does not exist/,
    );
    expect(await catalogSnapshot(app)).toEqual(before);
  });

  it('a sync whose endpoint is missing, or takes other columns, fails with what to install', async () => {
    await applyInTransaction(
      legacy,
      buildMigration('endpoint', syncEndpoint({ table: 'products', key: ['id'], columns: ['id', 'name'] })),
      'up',
    );
    const before = await catalogSnapshot(app);
    const error = (await applyInTransaction(app, sender(), 'up').catch((caught: unknown) => caught)) as Error;
    expect(error.message).toMatch(
      /cannot set up the sync of public\.products to server legacy: the server has no sync endpoint for public\.products with key \(id\) and exactly the columns \(id, name, description, price, created_at, updated_at\)/,
    );
    expect(error.message).toMatch(
      /relation "public\.products__sync_upsert_\w+" does not exist\. Run the migration with that syncEndpoint on database \w+ at [^:]+:\d+ \(server legacy\) first, then this migration again\./,
    );
    expect(error.message).toMatch(
      /Hint: On database \w+ at [^:]+:\d+, install syncEndpoint\(\{ table: "products", key: \["id"\], columns: \["id","name","description","price","created_at","updated_at"\] \}\) first/,
    );
    expect(await catalogSnapshot(app)).toEqual(before);
  });

  it('an endpoint on a table without a unique key is refused with what to fix', async () => {
    await legacy.query('CREATE TABLE loose (id bigint, name text)');
    const error = await applyInTransaction(
      legacy,
      buildMigration('endpoint', syncEndpoint({ table: 'loose', key: ['id'], columns: ['id', 'name'] })),
      'up',
    ).catch((caught: unknown) => caught);
    expect((error as Error).message).toMatch(
      /table public\.loose has no primary key or unique index on exactly the sync key \(id\)/,
    );
  });
});
