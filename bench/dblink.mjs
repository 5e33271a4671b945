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

const BULK_ROWS = 100_000;
// A variant that costs a round trip or a connection per row is measured on fewer rows, against a
// plain insert of as many rows: the ratio is per row either way, and the run stays short.
const NAMED_ROWS = 5_000;
const NEW_CONNECTION_ROWS = 300;
const SINGLE_ROWS = 2_000;
const SINGLE_NEW_CONNECTION_ROWS = 200;
const BATCH = 1000;
const COLUMNS = ['id', 'name', 'description', 'price', 'created_at', 'updated_at'];
const TABLE = (/** @type {string} */ name) => `CREATE TABLE ${name} (
  id bigint PRIMARY KEY, name varchar(255) NOT NULL, description text, price integer,
  created_at timestamp without time zone NOT NULL, updated_at timestamp without time zone NOT NULL)`;
const ROWS = (/** @type {string} */ table, /** @type {number} */ count) =>
  `INSERT INTO ${table} SELECT g, 'product ' || g, repeat('x', 60), g % 5000, timestamp '2020-01-01' + g * interval '1 second', timestamp '2024-01-01' FROM generate_series(1, ${count}) g`;

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
`;

/**
 * @param {{ legacy: import('../examples/support/embedded-server.mjs').Server, app: import('../examples/support/embedded-server.mjs').Server }} pair
 * @param {(line: string) => void} say
 */
export async function benchDblink({ legacy, app }, say) {
  const run = (/** @type {import('pg').Client} */ client) => (/** @type {string} */ sql, /** @type {readonly string[]} */ values) => client.query(sql, [...values]);
  const remoteTables = ['fdw_sync', 'dl_new', 'dl_named', 'dl_batch'];
  for (const name of remoteTables) await legacy.client.query(TABLE(name));
  for (const name of ['plain', ...remoteTables]) await app.client.query(TABLE(name));

  process.env.BENCH_DBLINK_PASSWORD = legacy.password;
  // No server options beyond libpq's own: dblink passes them all to libpq.
  const link = fdwLink({ name: 'legacy', host: legacy.host, port: legacy.port, dbname: legacy.database, userMappings: [{ user: legacy.user, password: env('BENCH_DBLINK_PASSWORD') }] });
  const endpoint = buildMigration('endpoint', syncEndpoint({ table: 'fdw_sync', key: ['id'], columns: COLUMNS }));
  const sync = buildMigration('sync', link, syncTrigger({ server: 'legacy', table: 'fdw_sync', key: ['id'], columns: COLUMNS }));
  await runMigration(endpoint, 'up', run(legacy.client));
  await runMigration(sync, 'up', run(app.client));
  await app.client.query('CREATE EXTENSION dblink');
  await app.client.query(TRIGGERS);

  const clear = async (/** @type {string} */ table) => {
    await app.client.query(`TRUNCATE ${table}`);
    if (table !== 'plain') await legacy.client.query(`TRUNCATE ${table}`);
  };
  const remoteCount = async (/** @type {string} */ table) => (await legacy.client.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n;
  const elapsed = async (/** @type {() => Promise<unknown>} */ work) => {
    const start = process.hrtime.bigint();
    await work();
    return Number(process.hrtime.bigint() - start) / 1e6;
  };
  /** Median of `runs` bulk inserts of `rows` rows into an emptied table. */
  const bulk = async (/** @type {string} */ table, /** @type {number} */ rows, runs = 3) => {
    const times = [];
    for (let attempt = 0; attempt < runs; attempt += 1) {
      await clear(table);
      times.push(await elapsed(() => app.client.query(ROWS(table, rows))));
    }
    if (table !== 'plain' && (await remoteCount(table)) !== rows) throw new Error(`${table}: the remote side does not have all ${rows} rows`);
    return times.sort((a, b) => a - b)[Math.floor(times.length / 2)] ?? 0;
  };
  const singles = async (/** @type {string} */ table, /** @type {number} */ rows) => {
    await clear(table);
    const time = await elapsed(async () => {
      for (let id = 1; id <= rows; id += 1) {
        await app.client.query(`INSERT INTO ${table} VALUES ($1, 'single', NULL, 1, '2020-01-01', '2020-01-01')`, [id]);
      }
    });
    if (table !== 'plain' && (await remoteCount(table)) !== rows) throw new Error(`${table}: the remote side does not have all ${rows} rows`);
    return time;
  };

  // Warm up the session's connections (FDW and named dblink) so no variant pays for opening one.
  await bulk('fdw_sync', 10, 1);
  await bulk('dl_named', 10, 1);

  const plain = await bulk('plain', BULK_ROWS);
  const fdw = await bulk('fdw_sync', BULK_ROWS);
  const batch = await bulk('dl_batch', BULK_ROWS);
  const plainNamed = await bulk('plain', NAMED_ROWS);
  const named = await bulk('dl_named', NAMED_ROWS, 1);
  const plainNew = await bulk('plain', NEW_CONNECTION_ROWS);
  const fresh = await bulk('dl_new', NEW_CONNECTION_ROWS, 1);
  say(`bulk INSERT ... SELECT of ${BULK_ROWS} rows: plain ${plain.toFixed(0)} ms, FDW statement-level sync ${fdw.toFixed(0)} ms, dblink statement-level batches of ${BATCH} ${batch.toFixed(0)} ms`);
  say(`dblink per-row trigger, named connection, ${NAMED_ROWS} rows: plain ${plainNamed.toFixed(1)} ms vs ${named.toFixed(0)} ms`);
  say(`dblink per-row trigger, new connection per row, ${NEW_CONNECTION_ROWS} rows: plain ${plainNew.toFixed(1)} ms vs ${fresh.toFixed(0)} ms`);

  const plainSingles = await singles('plain', SINGLE_ROWS);
  const fdwSingles = await singles('fdw_sync', SINGLE_ROWS);
  const namedSingles = await singles('dl_named', SINGLE_ROWS);
  const batchSingles = await singles('dl_batch', SINGLE_ROWS);
  const plainFewSingles = await singles('plain', SINGLE_NEW_CONNECTION_ROWS);
  const freshSingles = await singles('dl_new', SINGLE_NEW_CONNECTION_ROWS);
  say(
    `${SINGLE_ROWS} single-row autocommit INSERTs: plain ${plainSingles.toFixed(0)} ms, FDW sync ${fdwSingles.toFixed(0)} ms, dblink named per-row ${namedSingles.toFixed(0)} ms, dblink statement-level ${batchSingles.toFixed(0)} ms; ` +
      `${SINGLE_NEW_CONNECTION_ROWS} with a new connection per row: plain ${plainFewSingles.toFixed(0)} ms vs ${freshSingles.toFixed(0)} ms`,
  );

  // What a local ROLLBACK leaves on the other side: the FDW sync commits the remote transaction
  // only when the local one commits; dblink_exec's statement has committed remotely already.
  const rolledBack = { fdw_sync: 0, dl_named: 0, dl_batch: 0, dl_new: 0 };
  for (const table of /** @type {(keyof typeof rolledBack)[]} */ (Object.keys(rolledBack))) {
    await clear(table);
    await app.client.query('BEGIN');
    await app.client.query(`INSERT INTO ${table} VALUES (1, 'rolled back', NULL, 1, '2020-01-01', '2020-01-01')`);
    await app.client.query('ROLLBACK');
    rolledBack[table] = await remoteCount(table);
  }
  say(`rows left on the other side after a local ROLLBACK: FDW sync ${rolledBack.fdw_sync}, dblink ${rolledBack.dl_named} (named), ${rolledBack.dl_batch} (statement-level), ${rolledBack.dl_new} (new connection)`);
  if (rolledBack.fdw_sync !== 0) throw new Error('the FDW sync left a rolled-back row on the other side');

  // Leave both databases as they were, for the benchmarks that follow.
  await app.client.query(`SELECT public.dblink_disconnect('bench_sync')`);
  await app.client.query('DROP TABLE plain, dl_new, dl_named, dl_batch; DROP FUNCTION dl_new_row(), dl_named_row(), dl_batch_statement(); DROP EXTENSION dblink');
  await runMigration(sync, 'down', run(app.client));
  await app.client.query('DROP TABLE fdw_sync');
  await runMigration(endpoint, 'down', run(legacy.client));
  await legacy.client.query('DROP TABLE fdw_sync, dl_new, dl_named, dl_batch');

  return {
    dblink_fdw_sync_bulk_ratio: round(fdw / plain),
    dblink_batch_bulk_ratio: round(batch / plain),
    dblink_named_per_row_ratio: round(named / plainNamed),
    dblink_new_connection_per_row_ratio: round(fresh / plainNew),
    dblink_fdw_sync_single_row_ratio: round(fdwSingles / plainSingles),
    dblink_named_single_row_ratio: round(namedSingles / plainSingles),
    dblink_batch_single_row_ratio: round(batchSingles / plainSingles),
    dblink_new_connection_single_row_ratio: round(freshSingles / plainFewSingles),
    dblink_rows_left_after_rollback: rolledBack.dl_named + rolledBack.dl_batch + rolledBack.dl_new,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { startServer } = await import('../examples/support/embedded-server.mjs');
  const [legacy, app] = await Promise.all([startServer('legacy', { durable: true }), startServer('app', { durable: true })]);
  try {
    console.log(JSON.stringify(await benchDblink({ legacy, app }, (line) => console.log(line))));
  } finally {
    await Promise.all([legacy.stop(), app.stop()]);
  }
}
