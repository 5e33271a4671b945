// `node bench/write-through-floor.mjs`: where the floor of a write-through sync is, as ratios to
// an unsynced write in the same run. Not part of `npm run bench`; its own two servers.
// Single-row inserts, then updates: the sync as shipped; the same statement trigger without the exception block that
// names the sync in errors (it opens a savepoint on the other server: two more round trips); a
// one-row change sent as a single pushed-down UPDATE of a one-row view on the other side (no
// PREPARE/DEALLOCATE), with and without the exception block; and the row sent through the
// sync's foreign table with no trigger and no local row; and for each, the statements it sends
// to the other server per row (pg_stat_statements there; a PREPARE is one more round trip).
// Bulk: the sync at batch sizes 100, 1000 and 10000, and the same rows through its foreign table
// with no trigger. Bulk update: the sync's 100k-row UPDATE and its floor (bulk-update-floor.mjs).
// SINGLE_ROWS and BULK_ROWS in the environment make a shorter run; naming parts (single,
// bulk-insert, bulk-update) on the command line runs only those.
import { buildMigration, runMigration, syncTrigger } from 'pg-sync-link';
import { startServer } from '../examples/support/embedded-server.mjs';
import { pickedParts } from './bench-setup.mjs';
import { benchBulkUpdateFloor } from './bulk-update-floor.mjs';
import { median, round, timeMs } from './measure.mjs';
import { PRODUCT_COLUMNS, productRows, productTable } from './products.mjs';
import { installSyncedTable, legacyLink, runOn } from './synced-table.mjs';

const SINGLE_ROWS = Number(process.env.SINGLE_ROWS ?? 4000);
const SLICES = 8;
const BULK_ROWS = Number(process.env.BULK_ROWS ?? 100_000);
const { runs } = pickedParts(['single', 'bulk-insert', 'bulk-update']);
const COLUMNS =
  'id bigint, name varchar(255), description text, price integer, created_at timestamp, updated_at timestamp';
const SET = PRODUCT_COLUMNS.map((column) => `${column} = r.${column}`).join(', ');
const NAMED = `EXCEPTION WHEN OTHERS THEN
  RAISE EXCEPTION USING ERRCODE = SQLSTATE, MESSAGE = 'pg-sync-link: ' || TG_OP || ' not synced: ' || SQLERRM;`;

const [legacy, app] = await Promise.all([
  // pg_stat_statements counts the statements each shape sends to the other server.
  startServer('legacy', { durable: true, settings: ['shared_preload_libraries=pg_stat_statements'] }),
  startServer('app', { durable: true }),
]);
const say = (/** @type {string} */ line) => console.log(line);
try {
  const pair = { legacy, app };
  const synced = await installSyncedTable(pair, 'synced');
  const { rows: found } = await app.client.query(
    `SELECT 'public.' || ftrelid::regclass::text AS name FROM pg_catalog.pg_foreign_table
     WHERE pg_catalog.array_to_string(ftoptions, ',') LIKE '%table_name=synced\\_\\_sync\\_upsert\\_%'`,
  );
  const upsert = found[0].name;

  const results = /** @type {Record<string, number>} */ ({});
  if (runs('single')) {
    // The other side: a one-row view whose UPDATE is an upsert into the synced table.
    await legacy.client.query(
      `CREATE VIEW synced_one AS SELECT ${COLUMNS.split(', ')
        .map((column) => `NULL::${column.split(' ').slice(1).join(' ')} AS ${column.split(' ')[0]}`)
        .join(', ')}`,
    );
    await legacy.client.query(`CREATE RULE upsert AS ON UPDATE TO synced_one DO INSTEAD
      INSERT INTO synced VALUES (${PRODUCT_COLUMNS.map((column) => `NEW.${column}`).join(', ')})
      ON CONFLICT (id) DO UPDATE SET ${PRODUCT_COLUMNS.slice(1)
        .map((column) => `${column} = EXCLUDED.${column}`)
        .join(', ')}`);
    await app.client.query(
      `CREATE FOREIGN TABLE synced_one (${COLUMNS}) SERVER legacy OPTIONS (table_name 'synced_one')`,
    );
    const oneRow = `IF (SELECT count(*) FROM nt) = 1 THEN
        SELECT * INTO r FROM nt;
        UPDATE public.synced_one SET ${SET};
      ELSE
        INSERT INTO ${upsert} SELECT * FROM nt;
      END IF;`;
    const shapes = {
      unnamed: `INSERT INTO ${upsert} SELECT * FROM nt;`,
      one_row_named: `${oneRow}\n  RETURN NULL;\n${NAMED}`,
      one_row_unnamed: oneRow,
    };
    for (const [name, body] of Object.entries(shapes)) {
      await app.client.query(productTable(name));
      await app.client.query(`CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
        SET search_path = pg_catalog, pg_temp AS $$ DECLARE r record; BEGIN
        ${body.includes('RETURN NULL') ? body : `${body}\n  RETURN NULL;`} END $$`);
      // A transition table takes one event per trigger: one for inserts, one for updates.
      for (const event of ['INSERT', 'UPDATE']) {
        await app.client.query(
          `CREATE TRIGGER sync_${event.toLowerCase()} AFTER ${event} ON ${name} REFERENCING NEW TABLE AS nt FOR EACH STATEMENT EXECUTE FUNCTION ${name}()`,
        );
      }
    }

    const single = ['plain', 'synced', 'unnamed', 'one_row_named', 'one_row_unnamed', upsert];
    const totals = Object.fromEntries(single.map((table) => [table, 0]));
    const slice = SINGLE_ROWS / SLICES;
    for (let first = 1; first <= SINGLE_ROWS; first += slice) {
      for (const table of single) {
        totals[table] += await timeMs(async () => {
          for (let id = first; id < first + slice; id += 1)
            await app.client.query(`INSERT INTO ${table} VALUES ($1, 'single', NULL, 1, '2020-01-01', '2020-01-01')`, [
              id,
            ]);
        });
        // Every shape but the unsynced one must have sent its rows.
        const { rows } = await legacy.client.query('SELECT count(*)::int AS n FROM synced');
        if (table !== 'plain' && rows[0].n !== slice) throw new Error(`${table} sent ${rows[0].n} rows, not ${slice}`);
        await synced.clear('synced');
      }
    }
    say(`single-row autocommit INSERTs (${SINGLE_ROWS}), × unsynced:`);
    const labels = {
      synced: 'the sync as shipped (exception block: savepoint there)',
      unnamed: 'the same trigger without the exception block',
      one_row_named: 'one-row UPDATE pushed down, with the exception block',
      one_row_unnamed: 'one-row UPDATE pushed down, no exception block',
      [upsert]: "into the sync's foreign table, no trigger, no local row",
    };
    // Round trips do not depend on how busy the machine is: count what each shape sends there.
    await legacy.client.query('CREATE EXTENSION pg_stat_statements');
    const COUNTED = 10;
    for (const [table, label] of Object.entries(labels)) {
      await legacy.client.query('SELECT pg_stat_statements_reset()');
      for (let id = 1; id <= COUNTED; id += 1)
        await app.client.query(`INSERT INTO ${table} VALUES ($1, 'counted', NULL, 1, '2020-01-01', '2020-01-01')`, [
          SINGLE_ROWS + id,
        ]);
      const { rows } = await legacy.client.query(
        `SELECT pg_catalog.string_agg(pg_catalog.split_part(query, ' ', 1) || ' ×' || calls / $1, ', ' ORDER BY query) AS sent,
                pg_catalog.sum(calls)::int / $1 AS statements
         FROM pg_stat_statements WHERE query !~* 'pg_stat_statements'`,
        [COUNTED],
      );
      await synced.clear('synced');
      const ratio = round(totals[table] / totals.plain);
      const name = table === upsert ? 'transport' : table;
      results[`single_${name}`] = ratio;
      results[`single_${name}_statements_there`] = Number(rows[0].statements);
      say(`  ${label.padEnd(60)} ${ratio}×, ${rows[0].statements} statements there per row: ${rows[0].sent}`);
    }

    // Single-row UPDATEs of rows on both sides, the same shapes taking turns. The row through the
    // foreign table alone is an upsert of a key already there: an update on that side too.
    const updated = single.filter((table) => table !== upsert);
    for (const table of updated) {
      await synced.clear(table);
      await app.client.query(
        `INSERT INTO ${table} SELECT g, 'single', NULL, 1, '2020-01-01', '2020-01-01' FROM generate_series(1, ${SINGLE_ROWS}) g`,
      );
    }
    const updateTotals = Object.fromEntries(single.map((table) => [table, 0]));
    for (let first = 1; first <= SINGLE_ROWS; first += slice) {
      for (const table of single) {
        const statement =
          table === upsert
            ? `INSERT INTO ${upsert} VALUES ($1, 'single', NULL, 2, '2020-01-01', '2020-01-01')`
            : `UPDATE ${table} SET price = price + 1 WHERE id = $1`;
        updateTotals[table] += await timeMs(async () => {
          for (let id = first; id < first + slice; id += 1) await app.client.query(statement, [id]);
        });
      }
    }
    say(`single-row autocommit UPDATEs (${SINGLE_ROWS}) of rows on both sides, × unsynced:`);
    for (const [table, label] of Object.entries(labels)) {
      const ratio = round(updateTotals[table] / updateTotals.plain);
      results[`single_update_${table === upsert ? 'transport' : table}`] = ratio;
      say(
        `  ${(table === upsert ? "an upsert of the row through the sync's foreign table alone" : label).padEnd(60)} ${ratio}×`,
      );
    }

    await app.client.query(`DROP FOREIGN TABLE synced_one; DROP TABLE ${Object.keys(shapes).join(', ')}`);
    await app.client.query(
      `DROP FUNCTION ${Object.keys(shapes)
        .map((name) => `${name}()`)
        .join(', ')}`,
    );
  }

  // Bulk: the sync at several batch sizes, and the bare transport.
  if (runs('bulk-insert')) {
    const plain = /** @type {number[]} */ ([]);
    const bulk = /** @type {Record<string, number[]>} */ ({
      transport: [],
      batch_100: [],
      batch_1000: [],
      batch_10000: [],
    });
    // 1000 (the default) last: each attempt's transport then goes through foreign tables at 1000.
    const sizes = [100, 10000, 1000];
    for (let attempt = 0; attempt < 3; attempt += 1) {
      await synced.clear('plain');
      plain.push(await timeMs(() => app.client.query(productRows('plain', BULK_ROWS))));
      await synced.clear('synced');
      bulk.transport?.push(await timeMs(() => app.client.query(productRows(upsert, BULK_ROWS))));
      for (const batchSize of sizes) {
        const sender = buildMigration(
          'sync',
          legacyLink(pair),
          syncTrigger({ server: 'legacy', table: 'synced', key: ['id'], columns: PRODUCT_COLUMNS, batchSize }),
        );
        // Re-create the sender at this batch size (its foreign tables carry it).
        await runMigration(sender, 'down', runOn(app.client));
        await runMigration(sender, 'up', runOn(app.client));
        await synced.clear('synced');
        bulk[`batch_${batchSize}`]?.push(await timeMs(() => app.client.query(productRows('synced', BULK_ROWS))));
      }
    }
    say(`bulk INSERT ... SELECT of ${BULK_ROWS} rows, × unsynced:`);
    for (const [name, times] of Object.entries(bulk)) {
      results[`bulk_${name}`] = round(median(times) / median(plain));
      say(`  ${name.padEnd(12)} ${results[`bulk_${name}`]}×`);
    }
  }

  if (runs('bulk-update')) {
    // The sync at its default batch size again (the bulk insert leaves it at the last size).
    const sender = buildMigration(
      'sync',
      legacyLink(pair),
      syncTrigger({ server: 'legacy', table: 'synced', key: ['id'], columns: PRODUCT_COLUMNS }),
    );
    await runMigration(sender, 'down', runOn(app.client));
    await runMigration(sender, 'up', runOn(app.client));
    Object.assign(results, await benchBulkUpdateFloor(pair, synced, upsert, BULK_ROWS, say));
  }
  console.log(JSON.stringify(results));
} finally {
  await Promise.all([legacy.stop(), app.stop()]);
}
