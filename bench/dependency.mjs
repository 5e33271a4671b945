// A lookup that follows its table: a bulk UPDATE of the looked-up table that re-sends the N
// synced rows reading it, vs a plain synced UPDATE of those same N rows (same sync, same rows
// sent, same run). The ratio is what finding the readers through `dependsOn` adds.
import { buildMigration, env, fdwLink, runMigration, sqlExpression, syncEndpoint, syncTrigger } from 'pg-sync-link';
import { medianMs, round } from './measure.mjs';

const ROWS = 50_000;
const OPTIONS = 1_000;
const OLD_COLUMNS = ['id', 'worker_id', 'status', 'hospital_id'];

/**
 * @param {{ legacy: import('../examples/support/embedded-server.mjs').Server, app: import('../examples/support/embedded-server.mjs').Server }} pair
 * @param {(line: string) => void} say
 */
export async function benchDependency({ legacy, app }, say) {
  const run =
    (/** @type {import('pg').Client} */ client) =>
    (/** @type {string} */ sql, /** @type {readonly string[]} */ values) =>
      client.query(sql, [...values]);
  await app.client.query(`CREATE TABLE bench_options (id int PRIMARY KEY, hospital_id int);
    CREATE TABLE bench_timesheet (id int PRIMARY KEY, worker_id int, status text, options_id int);
    CREATE INDEX ON bench_timesheet (options_id)`);
  await legacy.client.query(
    'CREATE TABLE bench_timesheet (id int PRIMARY KEY, worker_id int, status text, hospital_id int)',
  );
  process.env.BENCH_DEPENDENCY_PASSWORD = legacy.password;
  const link = fdwLink({
    name: 'legacy',
    host: legacy.host,
    port: legacy.port,
    dbname: legacy.name,
    userMappings: [{ user: legacy.user, password: env('BENCH_DEPENDENCY_PASSWORD') }],
  });
  const sync = syncTrigger({
    server: 'legacy',
    table: 'bench_timesheet',
    key: ['id'],
    columns: [
      'id',
      'worker_id',
      'status',
      {
        remote: 'hospital_id',
        expression: sqlExpression('(SELECT o.hospital_id FROM public.bench_options o WHERE o.id = src.options_id)'),
      },
    ],
    dependsOn: [{ table: 'bench_options', rows: sqlExpression('src.options_id = dep.id') }],
  });
  const endpoint = buildMigration(
    'endpoint',
    syncEndpoint({ table: 'bench_timesheet', key: ['id'], columns: OLD_COLUMNS }),
  );
  const sender = buildMigration('dependency', link, sync);
  await runMigration(endpoint, 'up', run(legacy.client));
  await runMigration(sender, 'up', run(app.client));
  await app.client.query(`INSERT INTO bench_options SELECT g, g FROM generate_series(1, ${OPTIONS}) g`);
  await app.client.query(
    `INSERT INTO bench_timesheet SELECT g, g, 'draft', 1 + g % ${OPTIONS} FROM generate_series(1, ${ROWS}) g`,
  );
  await app.client.query('ANALYZE bench_options, bench_timesheet');

  const throughDependency = await medianMs(
    () => app.client.query('UPDATE bench_options SET hospital_id = hospital_id + 1'),
    3,
  );
  const direct = await medianMs(() => app.client.query('UPDATE bench_timesheet SET worker_id = worker_id + 1'), 3);
  const check = await legacy.client.query(
    `SELECT count(*)::int AS n FROM bench_timesheet WHERE hospital_id = 1 + id % ${OPTIONS} + 4 AND worker_id = id + 4`,
  );
  if (check.rows[0].n !== ROWS) throw new Error(`the other side has ${check.rows[0].n} of ${ROWS} rows up to date`);
  say(
    `dependency: UPDATE of ${OPTIONS} looked-up rows re-sending the ${ROWS} rows that read them: ${throughDependency.toFixed(0)} ms; plain synced UPDATE of those ${ROWS} rows: ${direct.toFixed(0)} ms`,
  );

  await runMigration(sender, 'down', run(app.client));
  await runMigration(endpoint, 'down', run(legacy.client));
  await app.client.query('DROP TABLE bench_timesheet, bench_options');
  await legacy.client.query('DROP TABLE bench_timesheet');
  return { dependency_write_ratio: round(throughDependency / direct) };
}
