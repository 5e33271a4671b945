// Synced bulk writes vs the same writes with no sync, vs the same rows pushed through a foreign
// table with no trigger at all (the transport's floor), and vs a hand-written per-row trigger of
// the kind the seed stories use (one remote statement per row), all in the same run.
import { buildMigration, runMigration } from 'pg-sync-link';
import { median, medianMs, round, timeMs } from './measure.mjs';
import { PRODUCT_COLUMNS, productRows, productTable } from './products.mjs';
import { installSyncedTable, legacyLink, runOn } from './synced-table.mjs';

const BULK_ROWS = 100_000;
// The per-row trigger costs about a remote round trip per row: measured on fewer rows, against
// a baseline of as many rows, so the run stays short. The ratio is per row either way.
const PER_ROW_TRIGGER_ROWS = 10_000;

/**
 * @param {import('./synced-table.mjs').Pair} pair
 * @param {(line: string) => void} say
 */
export async function benchSyncWrite(pair, say) {
  const { app } = pair;
  const synced = await installSyncedTable(pair, 'synced');
  // The sync's own foreign table over the endpoint's upsert view: inserting into it directly
  // moves the same rows to the other side with no trigger, no transition table, no PL/pgSQL.
  const { rows: found } = await app.client.query(
    `SELECT ftrelid::regclass::text AS name FROM pg_catalog.pg_foreign_table
     WHERE pg_catalog.array_to_string(ftoptions, ',') LIKE '%table_name=synced\\_\\_sync\\_upsert\\_%'`,
  );
  const transport = found[0].name;

  const bulkInsert = async (/** @type {string} */ table, /** @type {number} */ rows, runs = 3) => {
    const times = [];
    for (let attempt = 0; attempt < runs; attempt += 1) {
      await synced.clear(table === transport ? 'synced' : table);
      times.push(await timeMs(() => app.client.query(productRows(table, rows))));
    }
    return median(times);
  };
  const bulkUpdate = (/** @type {string} */ table, runs = 3) =>
    medianMs(
      () => app.client.query(`UPDATE ${table} SET price = price + 1, updated_at = updated_at + interval '1 second'`),
      runs,
    );

  // Interleaved, so a busy moment weighs on every figure alike.
  const times = {
    plain: /** @type {number[]} */ ([]),
    synced: /** @type {number[]} */ ([]),
    transport: /** @type {number[]} */ ([]),
  };
  for (let attempt = 0; attempt < 3; attempt += 1) {
    times.plain.push(await bulkInsert('plain', BULK_ROWS, 1));
    times.synced.push(await bulkInsert('synced', BULK_ROWS, 1));
    times.transport.push(await bulkInsert(transport, BULK_ROWS, 1));
  }
  const [plainInsert, syncedInsert, transportInsert] = [
    median(times.plain),
    median(times.synced),
    median(times.transport),
  ];
  await synced.clear('synced');
  await app.client.query(productRows('synced', BULK_ROWS));
  const plainUpdate = await bulkUpdate('plain');
  const syncedUpdate = await bulkUpdate('synced');
  say(
    `bulk INSERT ... SELECT of ${BULK_ROWS} rows: plain ${plainInsert.toFixed(0)} ms, synced ${syncedInsert.toFixed(0)} ms, the same rows into the sync's foreign table with no trigger ${transportInsert.toFixed(0)} ms`,
  );
  say(`bulk UPDATE of ${BULK_ROWS} rows: plain ${plainUpdate.toFixed(0)} ms, synced ${syncedUpdate.toFixed(0)} ms`);
  const remote = await synced.remoteCount();
  if (remote !== BULK_ROWS) throw new Error(`the synced table has ${remote} rows on the other side, not ${BULK_ROWS}`);

  const seed = await benchPerRowTrigger(pair);
  say(
    `per-row trigger, ${PER_ROW_TRIGGER_ROWS} rows: INSERT plain ${seed.plainInsert.toFixed(0)} ms vs ${seed.insert.toFixed(0)} ms, UPDATE plain ${seed.plainUpdate.toFixed(0)} ms vs ${seed.update.toFixed(0)} ms`,
  );
  await synced.remove();

  return {
    bulk_insert_ratio: round(syncedInsert / plainInsert),
    bulk_update_ratio: round(syncedUpdate / plainUpdate),
    fdw_transport_ratio: round(transportInsert / plainInsert),
    seed_bulk_insert_ratio: round(seed.insert / seed.plainInsert),
    seed_bulk_update_ratio: round(seed.update / seed.plainUpdate),
  };

  /**
   * The hand-written baseline: a row trigger per operation, each writing one row remotely.
   * @param {import('./synced-table.mjs').Pair} pair
   */
  async function benchPerRowTrigger({ legacy, app }) {
    await legacy.client.query(productTable('per_row'));
    await app.client.query(productTable('per_row'));
    const remoteTable = buildMigration(
      'per-row table',
      legacyLink(pair).foreignTable({
        name: 'per_row_remote',
        remote: { name: 'per_row' },
        columns: PRODUCT_COLUMNS.map((name) => ({
          name,
          type: name === 'id' ? 'bigint' : name === 'price' ? 'integer' : name.endsWith('_at') ? 'timestamp' : 'text',
        })),
      }),
    );
    await runMigration(remoteTable, 'up', runOn(app.client));
    await app.client.query(`CREATE FUNCTION per_row_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
      INSERT INTO per_row_remote VALUES (NEW.id, NEW.name, NEW.description, NEW.price, NEW.created_at, NEW.updated_at); RETURN NEW; END $$`);
    await app.client.query(`CREATE FUNCTION per_row_update() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
      UPDATE per_row_remote SET name = NEW.name, description = NEW.description, price = NEW.price, updated_at = NEW.updated_at WHERE id = NEW.id; RETURN NEW; END $$`);
    await app.client.query(
      'CREATE TRIGGER per_row_insert AFTER INSERT ON per_row FOR EACH ROW EXECUTE FUNCTION per_row_insert()',
    );
    await app.client.query(
      'CREATE TRIGGER per_row_update AFTER UPDATE ON per_row FOR EACH ROW EXECUTE FUNCTION per_row_update()',
    );
    const result = {
      plainInsert: await bulkInsert('plain', PER_ROW_TRIGGER_ROWS),
      insert: await bulkInsert('per_row', PER_ROW_TRIGGER_ROWS, 1),
      plainUpdate: await bulkUpdate('plain', 1),
      update: await bulkUpdate('per_row', 1),
    };
    await app.client.query('DROP TABLE per_row; DROP FUNCTION per_row_insert(), per_row_update()');
    await runMigration(remoteTable, 'down', runOn(app.client));
    await legacy.client.query('DROP TABLE per_row');
    return result;
  }
}
