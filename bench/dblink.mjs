// dblink as a sync transport, measured against a plain insert and against this library's FDW
// sync in the same run: a per-row trigger opening a new connection per row, a per-row trigger
// reusing a named connection, and a statement-level trigger sending each statement's rows in
// batches. Every variant upserts, like the FDW endpoint does, and quotes every value with
// format('%L') (dblink has no bound parameters). Then what a local ROLLBACK does to each.
//
// `node bench/dblink.mjs` starts its own servers; `npm run bench` calls benchDblink().
import { fileURLToPath } from 'node:url';
import { buildMigration, env, fdwLink, runMigration, syncEndpoint, syncTrigger } from 'pg-sync-link';
import { round } from './measure.mjs';
import { emptyTable, PRODUCT_COLUMNS, productRows, productTable } from './products.mjs';

const BULK_ROWS = 100_000;
// A variant that costs a round trip or a connection per row is measured on fewer rows, against a
// plain insert of as many rows: the ratio is per row either way, and the run stays short.
const NAMED_ROWS = 5_000;
const NEW_CONNECTION_ROWS = 300;
const SINGLE_ROWS = 2_000;
const SINGLE_NEW_CONNECTION_ROWS = 200; // both divisible by the 4 rounds
const BATCH = 1000;

// One row as the remote statement's VALUES entry: every value through %L, never concatenated raw.
const VALUES_OF = (/** @type {string} */ row) =>
  `pg_catalog.format('(%L, %L, %L, %L, %L, %L)', ${row}.id, ${row}.name, ${row}.description, ${row}.price, ${row}.created_at, ${row}.updated_at)`;
const UPSERT = (/** @type {string} */ table) =>
  `'INSERT INTO ${table} (id, name, description, price, created_at, updated_at) VALUES '`;
const ON_CONFLICT = `' ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, description = EXCLUDED.description, price = EXCLUDED.price, created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at'`;
// The named connection is opened once per session and reused by every later row and statement.
const NAMED = `IF NOT coalesce('bench_sync' = ANY (public.dblink_get_connections()), false) THEN
    PERFORM public.dblink_connect('bench_sync', 'legacy');
  END IF;`;

const TRIGGERS = `
CREATE FUNCTION dl_new_row() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
  -- A foreign server name as the connection: dblink opens a connection for this call, then closes it.
  PERFORM public.dblink_exec('legacy', ${UPSERT('dl_new')} || ${VALUES_OF('NEW')} || ${ON_CONFLICT});
  RETURN NEW;
END $$;
CREATE TRIGGER dl_new_row AFTER INSERT ON dl_new FOR EACH ROW EXECUTE FUNCTION dl_new_row();

CREATE FUNCTION dl_named_row() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
  ${NAMED}
  PERFORM public.dblink_exec('bench_sync', ${UPSERT('dl_named')} || ${VALUES_OF('NEW')} || ${ON_CONFLICT});
  RETURN NEW;
END $$;
CREATE TRIGGER dl_named_row AFTER INSERT ON dl_named FOR EACH ROW EXECUTE FUNCTION dl_named_row();

CREATE FUNCTION dl_batch_statement() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  batch record;
BEGIN
  ${NAMED}
  FOR batch IN
    SELECT pg_catalog.string_agg(${VALUES_OF('r')}, ', ') AS rows_sql
    FROM (SELECT n.*, (pg_catalog.row_number() OVER () - 1) / ${BATCH} AS part FROM new_rows n) r GROUP BY r.part
  LOOP
    PERFORM public.dblink_exec('bench_sync', ${UPSERT('dl_batch')} || batch.rows_sql || ${ON_CONFLICT});
  END LOOP;
  RETURN NULL;
END $$;
CREATE TRIGGER dl_batch_statement AFTER INSERT ON dl_batch REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION dl_batch_statement();

-- The same batches inside a remote transaction that commits when the local one does, as
-- postgres_fdw does: the first write of a local transaction sends BEGIN (after a ROLLBACK of
-- whatever a local rollback left open: PL/pgSQL cannot act on a local abort), and a deferred
-- trigger sends COMMIT at local commit.
CREATE FUNCTION dl_tx_statement() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  batch record;
BEGIN
  IF NOT coalesce('bench_tx' = ANY (public.dblink_get_connections()), false) THEN
    PERFORM public.dblink_connect('bench_tx', 'legacy');
  END IF;
  IF coalesce(pg_catalog.current_setting('bench.dblink_tx', true), '') <> pg_catalog.txid_current()::text THEN
    PERFORM public.dblink_exec('bench_tx', 'ROLLBACK; BEGIN');
    PERFORM pg_catalog.set_config('bench.dblink_tx', pg_catalog.txid_current()::text, true);
  END IF;
  FOR batch IN
    SELECT pg_catalog.string_agg(${VALUES_OF('r')}, ', ') AS rows_sql
    FROM (SELECT n.*, (pg_catalog.row_number() OVER () - 1) / ${BATCH} AS part FROM new_rows n) r GROUP BY r.part
  LOOP
    PERFORM public.dblink_exec('bench_tx', ${UPSERT('dl_tx')} || batch.rows_sql || ${ON_CONFLICT});
  END LOOP;
  RETURN NULL;
END $$;
CREATE TRIGGER dl_tx_statement AFTER INSERT ON dl_tx REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION dl_tx_statement();
CREATE FUNCTION dl_tx_commit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
  IF pg_catalog.current_setting('bench.dblink_tx', true) = pg_catalog.txid_current()::text THEN
    PERFORM public.dblink_exec('bench_tx', 'COMMIT');
    PERFORM pg_catalog.set_config('bench.dblink_tx', '', true);
  END IF;
  RETURN NULL;
END $$;
-- Constraint triggers are row-level: it fires for every row at commit, and commits once.
CREATE CONSTRAINT TRIGGER dl_tx_commit AFTER INSERT ON dl_tx DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION dl_tx_commit();
`;

/**
 * @param {{ legacy: import('../examples/support/embedded-server.mjs').Server, app: import('../examples/support/embedded-server.mjs').Server }} pair
 * @param {(line: string) => void} say
 */
export async function benchDblink({ legacy, app }, say) {
  const run =
    (/** @type {import('pg').Client} */ client) =>
    (/** @type {string} */ sql, /** @type {readonly string[]} */ values) =>
      client.query(sql, [...values]);
  const remoteTables = ['fdw_sync', 'dl_new', 'dl_named', 'dl_batch', 'dl_tx'];
  for (const name of remoteTables) await legacy.client.query(productTable(name));
  for (const name of ['plain', ...remoteTables]) await app.client.query(productTable(name));

  process.env.BENCH_DBLINK_PASSWORD = legacy.password;
  // dblink reuses this link's server and user mapping (it keeps only the libpq options of a server).
  const link = fdwLink({
    name: 'legacy',
    host: legacy.host,
    port: legacy.port,
    dbname: legacy.database,
    userMappings: [{ user: legacy.user, password: env('BENCH_DBLINK_PASSWORD') }],
  });
  const endpoint = buildMigration(
    'endpoint',
    syncEndpoint({ table: 'fdw_sync', key: ['id'], columns: PRODUCT_COLUMNS }),
  );
  const sync = buildMigration(
    'sync',
    link,
    syncTrigger({ server: 'legacy', table: 'fdw_sync', key: ['id'], columns: PRODUCT_COLUMNS }),
  );
  await runMigration(endpoint, 'up', run(legacy.client));
  await runMigration(sync, 'up', run(app.client));
  await app.client.query('CREATE EXTENSION dblink');
  await app.client.query(TRIGGERS);

  const clear = async (/** @type {string} */ table) => {
    await emptyTable(app.client, table);
    if (table !== 'plain') await emptyTable(legacy.client, table);
  };
  const remoteCount = async (/** @type {string} */ table) =>
    (await legacy.client.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n;
  const elapsed = async (/** @type {() => Promise<unknown>} */ work) => {
    const start = process.hrtime.bigint();
    await work();
    return Number(process.hrtime.bigint() - start) / 1e6;
  };
  /** One bulk insert of `rows` rows into an emptied table, checked on the other side. */
  const bulkOnce = async (/** @type {string} */ table, /** @type {number} */ rows) => {
    await clear(table);
    const time = await elapsed(() => app.client.query(productRows(table, rows)));
    if (table !== 'plain' && (await remoteCount(table)) !== rows)
      throw new Error(`${table}: the remote side does not have all ${rows} rows`);
    return time;
  };
  const median = (/** @type {number[]} */ times) => times.sort((a, b) => a - b)[Math.floor(times.length / 2)] ?? 0;
  // The machine is shared: variants take turns, round after round, so a busy moment slows all
  // of them alike rather than one; bulk figures are medians over the rounds, single-row ones sums.
  /** @param {Record<string, number>} rowsByTable @param {number} rounds */
  const bulkRounds = async (rowsByTable, rounds) => {
    const times = /** @type {Record<string, number[]>} */ (
      Object.fromEntries(Object.keys(rowsByTable).map((table) => [table, []]))
    );
    for (let round = 0; round < rounds; round += 1) {
      for (const [table, rows] of Object.entries(rowsByTable)) times[table]?.push(await bulkOnce(table, rows));
    }
    return Object.fromEntries(Object.entries(times).map(([table, list]) => [table, median(list)]));
  };
  /** @param {Record<string, number>} rowsByTable @param {number} rounds */
  const singleRounds = async (rowsByTable, rounds) => {
    const totals = /** @type {Record<string, number>} */ (
      Object.fromEntries(Object.keys(rowsByTable).map((table) => [table, 0]))
    );
    for (const table of Object.keys(rowsByTable)) await clear(table);
    for (let round = 0; round < rounds; round += 1) {
      for (const [table, rows] of Object.entries(rowsByTable)) {
        const per = rows / rounds;
        totals[table] =
          (totals[table] ?? 0) +
          (await elapsed(async () => {
            for (let id = round * per + 1; id <= (round + 1) * per; id += 1) {
              await app.client.query(
                `INSERT INTO ${table} VALUES ($1, 'single', NULL, 1, '2020-01-01', '2020-01-01')`,
                [id],
              );
            }
          }));
      }
    }
    for (const [table, rows] of Object.entries(rowsByTable)) {
      if (table !== 'plain' && (await remoteCount(table)) !== rows)
        throw new Error(`${table}: the remote side does not have all ${rows} rows`);
    }
    return totals;
  };

  // Warm up the session's connections (FDW and named dblink) so no variant pays for opening one.
  await bulkOnce('fdw_sync', 10);
  await bulkOnce('dl_named', 10);
  await bulkOnce('dl_tx', 10);

  const big = await bulkRounds({ plain: BULK_ROWS, fdw_sync: BULK_ROWS, dl_batch: BULK_ROWS, dl_tx: BULK_ROWS }, 3);
  const named = await bulkRounds({ plain: NAMED_ROWS, dl_named: NAMED_ROWS }, 3);
  const fresh = await bulkRounds({ dl_new: NEW_CONNECTION_ROWS }, 3);
  // Per row, against the plain insert of NAMED_ROWS rows: a plain insert of a few hundred rows
  // takes about a millisecond, too little to divide by.
  const plainPerRow = (named.plain ?? 0) / NAMED_ROWS;
  const plain = big.plain ?? 0;
  say(
    `bulk INSERT ... SELECT of ${BULK_ROWS} rows: plain ${plain.toFixed(0)} ms, FDW statement-level sync ${big.fdw_sync?.toFixed(0)} ms, dblink statement-level batches of ${BATCH} ${big.dl_batch?.toFixed(0)} ms, the same in a remote transaction ${big.dl_tx?.toFixed(0)} ms`,
  );
  say(
    `dblink per-row trigger, named connection, ${NAMED_ROWS} rows: plain ${named.plain?.toFixed(1)} ms vs ${named.dl_named?.toFixed(0)} ms`,
  );
  say(
    `dblink per-row trigger, new connection per row, ${NEW_CONNECTION_ROWS} rows: ${fresh.dl_new?.toFixed(0)} ms (plain: ${(plainPerRow * 1000).toFixed(1)} µs a row)`,
  );

  const single = await singleRounds(
    { plain: SINGLE_ROWS, fdw_sync: SINGLE_ROWS, dl_named: SINGLE_ROWS, dl_batch: SINGLE_ROWS, dl_tx: SINGLE_ROWS },
    4,
  );
  const singleFresh = await singleRounds({ plain: SINGLE_NEW_CONNECTION_ROWS, dl_new: SINGLE_NEW_CONNECTION_ROWS }, 4);
  say(
    `${SINGLE_ROWS} single-row autocommit INSERTs: plain ${single.plain?.toFixed(0)} ms, FDW sync ${single.fdw_sync?.toFixed(0)} ms, dblink named per-row ${single.dl_named?.toFixed(0)} ms, dblink statement-level ${single.dl_batch?.toFixed(0)} ms, in a remote transaction ${single.dl_tx?.toFixed(0)} ms; ` +
      `${SINGLE_NEW_CONNECTION_ROWS} with a new connection per row: plain ${singleFresh.plain?.toFixed(0)} ms vs ${singleFresh.dl_new?.toFixed(0)} ms`,
  );

  // What a local ROLLBACK leaves on the other side: the FDW sync commits the remote transaction
  // only when the local one commits; dblink_exec's statement has committed remotely already.
  const rolledBack = { fdw_sync: 0, dl_named: 0, dl_batch: 0, dl_new: 0, dl_tx: 0 };
  for (const table of /** @type {(keyof typeof rolledBack)[]} */ (Object.keys(rolledBack))) {
    await clear(table);
    await app.client.query('BEGIN');
    await app.client.query(`INSERT INTO ${table} VALUES (1, 'rolled back', NULL, 1, '2020-01-01', '2020-01-01')`);
    await app.client.query('ROLLBACK');
    rolledBack[table] = await remoteCount(table);
  }
  say(
    `rows left on the other side after a local ROLLBACK: FDW sync ${rolledBack.fdw_sync}, dblink ${rolledBack.dl_named} (named), ${rolledBack.dl_batch} (statement-level), ${rolledBack.dl_new} (new connection), ${rolledBack.dl_tx} (remote transaction)`,
  );
  if (rolledBack.fdw_sync !== 0) throw new Error('the FDW sync left a rolled-back row on the other side');
  // The remote transaction variant left nothing visible, but its remote transaction is still
  // open, holding the row's lock, until this session writes again: a writer on the other side waits.
  const open = await legacy.client.query(
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state = 'idle in transaction'`,
  );
  await legacy.client.query(`SET lock_timeout = '500ms'`);
  const blocked = await legacy.client
    .query(`INSERT INTO dl_tx VALUES (1, 'on legacy', NULL, 1, '2020-01-01', '2020-01-01')`)
    .then(
      () => 'no',
      (/** @type {{ code?: string }} */ error) => error.code ?? 'error',
    );
  await legacy.client.query('RESET lock_timeout');
  say(
    `after that ROLLBACK, dblink in a remote transaction leaves ${open.rows[0].n} remote session idle in transaction; an insert of the same key on the other side ${blocked === '55P03' ? 'waits for its lock and times out (55P03)' : `gives ${blocked}`}`,
  );
  await app.client.query(`SELECT public.dblink_exec('bench_tx', 'ROLLBACK')`);

  // A remote error undone locally by a savepoint: postgres_fdw maps local savepoints onto remote
  // ones, so the rest of the transaction commits on both sides. A dblink remote transaction is
  // aborted by the error, and its COMMIT then rolls everything back without an error.
  const divergence = { fdw_sync: { local: 0, remote: 0 }, dl_tx: { local: 0, remote: 0 } };
  for (const table of /** @type {(keyof typeof divergence)[]} */ (Object.keys(divergence))) {
    await clear(table);
    await legacy.client.query(`ALTER TABLE ${table} ADD CONSTRAINT price_not_negative CHECK (price >= 0)`);
    await app.client.query('BEGIN');
    await app.client.query(`INSERT INTO ${table} VALUES (1, 'kept', NULL, 1, '2020-01-01', '2020-01-01')`);
    await app.client.query('SAVEPOINT before_bad_row');
    const failed = await app.client
      .query(`INSERT INTO ${table} VALUES (2, 'refused remotely', NULL, -1, '2020-01-01', '2020-01-01')`)
      .then(
        () => false,
        () => true,
      );
    if (!failed) throw new Error(`${table}: the remote CHECK did not fail the local statement`);
    await app.client.query('ROLLBACK TO SAVEPOINT before_bad_row');
    await app.client.query('COMMIT');
    divergence[table] = {
      local: (await app.client.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n,
      remote: await remoteCount(table),
    };
    await legacy.client.query(`ALTER TABLE ${table} DROP CONSTRAINT price_not_negative`);
  }
  say(
    `a remote error rolled back to a local savepoint, then COMMIT: FDW sync ${divergence.fdw_sync.local} row here, ${divergence.fdw_sync.remote} there; dblink in a remote transaction ${divergence.dl_tx.local} row here, ${divergence.dl_tx.remote} there`,
  );

  // Leave both databases as they were, for the benchmarks that follow.
  await app.client.query(`SELECT public.dblink_disconnect('bench_sync'), public.dblink_disconnect('bench_tx')`);
  await app.client.query(
    'DROP TABLE plain, dl_new, dl_named, dl_batch, dl_tx; DROP FUNCTION dl_new_row(), dl_named_row(), dl_batch_statement(), dl_tx_statement(), dl_tx_commit(); DROP EXTENSION dblink',
  );
  await runMigration(sync, 'down', run(app.client));
  await app.client.query('DROP TABLE fdw_sync');
  await runMigration(endpoint, 'down', run(legacy.client));
  await legacy.client.query('DROP TABLE fdw_sync, dl_new, dl_named, dl_batch, dl_tx');

  const ratio = (/** @type {number | undefined} */ time, /** @type {number | undefined} */ base) =>
    round((time ?? 0) / (base ?? 1));
  return {
    dblink_fdw_sync_bulk_ratio: ratio(big.fdw_sync, plain),
    dblink_batch_bulk_ratio: ratio(big.dl_batch, plain),
    dblink_transaction_bulk_ratio: ratio(big.dl_tx, plain),
    dblink_named_per_row_ratio: ratio(named.dl_named, named.plain),
    dblink_new_connection_per_row_ratio: ratio((fresh.dl_new ?? 0) / NEW_CONNECTION_ROWS, plainPerRow),
    dblink_fdw_sync_single_row_ratio: ratio(single.fdw_sync, single.plain),
    dblink_named_single_row_ratio: ratio(single.dl_named, single.plain),
    dblink_batch_single_row_ratio: ratio(single.dl_batch, single.plain),
    dblink_transaction_single_row_ratio: ratio(single.dl_tx, single.plain),
    dblink_new_connection_single_row_ratio: ratio(singleFresh.dl_new, singleFresh.plain),
    dblink_rows_left_after_rollback: rolledBack.dl_named + rolledBack.dl_batch + rolledBack.dl_new,
    dblink_transaction_open_after_rollback: open.rows[0].n,
    dblink_transaction_rows_lost_after_savepoint: divergence.dl_tx.local - divergence.dl_tx.remote,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { startServer } = await import('../examples/support/embedded-server.mjs');
  const [legacy, app] = await Promise.all([
    startServer('legacy', { durable: true }),
    startServer('app', { durable: true }),
  ]);
  try {
    console.log(JSON.stringify(await benchDblink({ legacy, app }, (line) => console.log(line))));
  } finally {
    await Promise.all([legacy.stop(), app.stop()]);
  }
}
