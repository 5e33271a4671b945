// Synced writes vs the same writes with no sync, and vs a hand-written per-row trigger of the
// kind the seed stories use (one remote statement per row), all in the same run.
import { buildMigration, env, fdwLink, runMigration, syncEndpoint, syncTrigger } from 'pg-sync-link';
import { medianMs, round } from './measure.mjs';
import { emptyTable, PRODUCT_COLUMNS, productRows, productTable } from './products.mjs';

const BULK_ROWS = 100_000;
// The per-row trigger costs about a remote round trip per row: measured on fewer rows, against
// a baseline of as many rows, so the run stays short. The ratio is per row either way.
const PER_ROW_TRIGGER_ROWS = 10_000;
const SINGLE_ROWS = 10_000;

/**
 * @param {{ legacy: import('../examples/support/embedded-server.mjs').Server, app: import('../examples/support/embedded-server.mjs').Server }} pair
 * @param {(line: string) => void} say
 */
export async function benchSyncWrite({ legacy, app }, say) {
  const run =
    (/** @type {import('pg').Client} */ client) =>
    (/** @type {string} */ sql, /** @type {readonly string[]} */ values) =>
      client.query(sql, [...values]);
  for (const name of ['synced', 'per_row']) await legacy.client.query(productTable(name));
  for (const name of ['plain', 'synced', 'per_row']) await app.client.query(productTable(name));

  process.env.BENCH_SYNC_PASSWORD = legacy.password;
  const link = fdwLink({
    name: 'legacy',
    host: legacy.host,
    port: legacy.port,
    dbname: legacy.name,
    userMappings: [{ user: legacy.user, password: env('BENCH_SYNC_PASSWORD') }],
  });
  await runMigration(
    buildMigration('endpoint', syncEndpoint({ table: 'synced', key: ['id'], columns: PRODUCT_COLUMNS })),
    'up',
    run(legacy.client),
  );
  await runMigration(
    buildMigration(
      'sync',
      link,
      syncTrigger({ server: 'legacy', table: 'synced', key: ['id'], columns: PRODUCT_COLUMNS }),
    ),
    'up',
    run(app.client),
  );

  // The hand-written baseline: a row trigger per operation, each writing one row remotely.
  await runMigration(
    buildMigration(
      'per-row table',
      link.foreignTable({
        name: 'per_row_remote',
        remote: { name: 'per_row' },
        columns: PRODUCT_COLUMNS.map((name) => ({
          name,
          type: name === 'id' ? 'bigint' : name === 'price' ? 'integer' : name.endsWith('_at') ? 'timestamp' : 'text',
        })),
      }),
    ),
    'up',
    run(app.client),
  );
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

  const clear = async (/** @type {string} */ table) => {
    await emptyTable(app.client, table);
    if (table !== 'plain') await emptyTable(legacy.client, table);
  };
  const bulkInsert = async (/** @type {string} */ table, /** @type {number} */ rows, runs = 3) => {
    const times = [];
    for (let attempt = 0; attempt < runs; attempt += 1) {
      await clear(table);
      const start = process.hrtime.bigint();
      await app.client.query(productRows(table, rows));
      times.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    return times.sort((a, b) => a - b)[Math.floor(times.length / 2)] ?? 0;
  };
  const bulkUpdate = (/** @type {string} */ table, runs = 3) =>
    medianMs(
      () => app.client.query(`UPDATE ${table} SET price = price + 1, updated_at = updated_at + interval '1 second'`),
      runs,
    );

  const plainInsert = await bulkInsert('plain', BULK_ROWS);
  const syncedInsert = await bulkInsert('synced', BULK_ROWS);
  const plainUpdate = await bulkUpdate('plain');
  const syncedUpdate = await bulkUpdate('synced');
  say(
    `bulk INSERT ... SELECT of ${BULK_ROWS} rows: plain ${plainInsert.toFixed(0)} ms, synced ${syncedInsert.toFixed(0)} ms`,
  );
  say(`bulk UPDATE of ${BULK_ROWS} rows: plain ${plainUpdate.toFixed(0)} ms, synced ${syncedUpdate.toFixed(0)} ms`);
  const remote = await legacy.client.query('SELECT count(*)::int AS n FROM synced');
  if (remote.rows[0].n !== BULK_ROWS)
    throw new Error(`the synced table has ${remote.rows[0].n} rows on the other side, not ${BULK_ROWS}`);

  const plainSmall = await bulkInsert('plain', PER_ROW_TRIGGER_ROWS);
  const perRowInsert = await bulkInsert('per_row', PER_ROW_TRIGGER_ROWS, 1);
  const plainSmallUpdate = await bulkUpdate('plain', 1);
  const perRowUpdate = await bulkUpdate('per_row', 1);
  say(
    `per-row trigger, ${PER_ROW_TRIGGER_ROWS} rows: INSERT plain ${plainSmall.toFixed(0)} ms vs ${perRowInsert.toFixed(0)} ms, UPDATE plain ${plainSmallUpdate.toFixed(0)} ms vs ${perRowUpdate.toFixed(0)} ms`,
  );

  await clear('plain');
  await clear('synced');
  const singles = async (/** @type {string} */ table) => {
    const start = process.hrtime.bigint();
    for (let id = 1; id <= SINGLE_ROWS; id += 1) {
      await app.client.query(`INSERT INTO ${table} VALUES ($1, 'single', NULL, 1, '2020-01-01', '2020-01-01')`, [id]);
    }
    return Number(process.hrtime.bigint() - start) / 1e6;
  };
  const plainSingles = await singles('plain');
  const syncedSingles = await singles('synced');
  say(
    `${SINGLE_ROWS} single-row autocommit INSERTs: plain ${plainSingles.toFixed(0)} ms, synced ${syncedSingles.toFixed(0)} ms`,
  );

  // Leave both databases as they were, for the benchmarks that follow.
  await app.client.query(
    'DROP TABLE plain, per_row; DROP FOREIGN TABLE per_row_remote; DROP FUNCTION per_row_insert(), per_row_update()',
  );
  await runMigration(
    buildMigration(
      'sync',
      link,
      syncTrigger({ server: 'legacy', table: 'synced', key: ['id'], columns: PRODUCT_COLUMNS }),
    ),
    'down',
    run(app.client),
  );
  await app.client.query('DROP TABLE synced');
  await runMigration(
    buildMigration('endpoint', syncEndpoint({ table: 'synced', key: ['id'], columns: PRODUCT_COLUMNS })),
    'down',
    run(legacy.client),
  );
  await legacy.client.query('DROP TABLE synced, per_row');

  return {
    bulk_insert_ratio: round(syncedInsert / plainInsert),
    bulk_update_ratio: round(syncedUpdate / plainUpdate),
    single_row_ratio: round(syncedSingles / plainSingles),
    seed_bulk_insert_ratio: round(perRowInsert / plainSmall),
    seed_bulk_update_ratio: round(perRowUpdate / plainSmallUpdate),
  };
}
