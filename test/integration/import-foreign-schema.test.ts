import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { buildMigration, MigrationFailedError, type FdwLink } from '../../src/index.js';
import { applyInTransaction } from '../harness/apply.js';
import { catalogSnapshot } from '../harness/catalog.js';
import { PRODUCT_COLUMNS, PRODUCT_ROWS, readProducts, seedProducts } from '../harness/legacy-fixture.js';
import type { ServerPair } from '../harness/pair.js';
import { linkTo } from '../harness/links.js';
import { useServers } from '../harness/suite.js';

let pair: ServerPair;
let legacy: pg.Client;
let app: pg.Client;
let link: FdwLink;

useServers('import', async (servers) => {
  ({ pair, legacy, app } = servers);
  await seedProducts(legacy);
  await legacy.query('CREATE TABLE customers (id bigint PRIMARY KEY, email text NOT NULL)');
  await legacy.query(`CREATE TABLE "Order Lines" (id bigint, note text DEFAULT 'none')`);
  await legacy.query(`INSERT INTO customers VALUES (1, 'a@example.com')`);
  process.env.LEGACY_DB_PASSWORD = pair.legacy.password;
  link = linkTo(pair.legacy, servers.names.legacy, 'LEGACY_DB_PASSWORD');
  await applyInTransaction(app, buildMigration('link', link), 'up');
});

async function foreignTablesIn(schema: string): Promise<string[]> {
  const { rows } = await app.query<{ relname: string }>(
    `SELECT c.relname FROM pg_foreign_table ft JOIN pg_class c ON c.oid = ft.ftrelid
     JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 ORDER BY 1`,
    [schema],
  );
  return rows.map((row) => row.relname);
}

describe('IMPORT FOREIGN SCHEMA', () => {
  it('imports every table into a schema it creates, and down removes exactly that', async () => {
    const before = await catalogSnapshot(app);
    const migration = buildMigration(
      'import',
      link.importForeignSchema({
        remoteSchema: 'public',
        into: 'legacy',
        createSchema: true,
        options: { import_default: true },
      }),
    );
    await applyInTransaction(app, migration, 'up');
    expect(await foreignTablesIn('legacy')).toEqual(['Order Lines', 'customers', 'products']);
    expect(await readProducts(app, { schema: 'legacy', name: 'products' })).toEqual(PRODUCT_ROWS);
    await applyInTransaction(app, migration, 'down');
    expect(await catalogSnapshot(app)).toEqual(before);
  });

  it('LIMIT TO imports only the named tables', async () => {
    await app.query('CREATE SCHEMA legacy');
    const before = await catalogSnapshot(app);
    const migration = buildMigration(
      'import',
      link.importForeignSchema({ remoteSchema: 'public', into: 'legacy', limitTo: ['products', 'Order Lines'] }),
    );
    await applyInTransaction(app, migration, 'up');
    expect(await foreignTablesIn('legacy')).toEqual(['Order Lines', 'products']);
    await applyInTransaction(app, migration, 'down');
    expect(await catalogSnapshot(app)).toEqual(before);
  });

  it('EXCEPT imports the rest, and down leaves tables it did not import', async () => {
    await app.query('CREATE SCHEMA legacy');
    // A foreign table made by another migration in the same schema, on the same server.
    const explicit = buildMigration(
      'explicit',
      link.foreignTable({ name: { schema: 'legacy', name: 'products' }, columns: PRODUCT_COLUMNS }),
    );
    await applyInTransaction(app, explicit, 'up');
    const before = await catalogSnapshot(app);
    const migration = buildMigration(
      'import',
      link.importForeignSchema({ remoteSchema: 'public', into: 'legacy', except: ['products'] }),
    );
    await applyInTransaction(app, migration, 'up');
    expect(await foreignTablesIn('legacy')).toEqual(['Order Lines', 'customers', 'products']);
    await applyInTransaction(app, migration, 'down');
    expect(await catalogSnapshot(app)).toEqual(before);
    expect(await foreignTablesIn('legacy')).toEqual(['products']);
  });

  it('down still removes exactly the imported tables after the remote schema changed', async () => {
    const before = await catalogSnapshot(app);
    const migration = buildMigration(
      'import',
      link.importForeignSchema({ remoteSchema: 'public', into: 'legacy', createSchema: true }),
    );
    await applyInTransaction(app, migration, 'up');
    await legacy.query('CREATE TABLE invoices (id bigint)');
    await legacy.query('DROP TABLE customers');
    await applyInTransaction(app, migration, 'down');
    expect(await catalogSnapshot(app)).toEqual(before);
  });

  it('a name clash with an existing local table fails the whole import', async () => {
    await app.query('CREATE SCHEMA legacy');
    await app.query('CREATE TABLE legacy.customers (id int)');
    const before = await catalogSnapshot(app);
    const migration = buildMigration('import', link.importForeignSchema({ remoteSchema: 'public', into: 'legacy' }));
    await expect(applyInTransaction(app, migration, 'up')).rejects.toThrow(MigrationFailedError);
    expect(await catalogSnapshot(app)).toEqual(before);
  });
});
