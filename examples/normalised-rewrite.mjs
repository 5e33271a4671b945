// A normalised rewrite writes timesheets; the old service still reads the old, denormalised
// table. Each timesheet is written through to the old table at commit, its hospital looked up
// in another new table (possibly written later in the same transaction) and is_approved computed.
// When an options row changes, the old rows that read it follow (dependsOn).
import { applySyncLink, env, fdwLink, removeSyncLink, sqlExpression, syncEndpoint, syncTrigger } from 'pg-sync-link';
import { startServer } from './support/embedded-server.mjs';

const [old, fresh] = await Promise.all([startServer('timesheet_old'), startServer('timesheet_new')]);
try {
  await old.client.query(`CREATE TABLE timesheet_old (
    id bigint PRIMARY KEY, worker_id bigint NOT NULL, hospital_id bigint, status text NOT NULL, is_approved boolean NOT NULL)`);
  await fresh.client.query('CREATE TABLE timesheet_options (id bigint PRIMARY KEY, hospital_id bigint NOT NULL)');
  await fresh.client.query(`CREATE TABLE timesheet_new (
    id bigint PRIMARY KEY, worker_id bigint NOT NULL, status text NOT NULL, timesheet_options_id bigint REFERENCES timesheet_options DEFERRABLE INITIALLY DEFERRED)`);
  process.env.OLD_DB_PASSWORD = old.password;

  const columns = ['id', 'worker_id', 'hospital_id', 'status', 'is_approved'];
  await applySyncLink(old.url, syncEndpoint({ table: 'timesheet_old', key: ['id'], columns }));
  const link = [
    fdwLink({
      name: 'timesheet_old',
      host: old.host,
      port: old.port,
      dbname: old.database,
      userMappings: [{ user: old.user, password: env('OLD_DB_PASSWORD') }],
    }),
    syncTrigger({
      server: 'timesheet_old',
      table: 'timesheet_new',
      remote: { name: 'timesheet_old' },
      key: ['id'],
      timing: 'commit',
      columns: [
        'id',
        'worker_id',
        {
          remote: 'hospital_id',
          expression: sqlExpression(
            'SELECT o.hospital_id FROM public.timesheet_options AS o WHERE o.id = src.timesheet_options_id',
          ),
        },
        'status',
        { remote: 'is_approved', expression: sqlExpression(`src.status = 'approved'`) },
      ],
      dependsOn: [{ table: 'timesheet_options', rows: sqlExpression('src.timesheet_options_id = dep.id') }],
    }),
  ];
  console.log(`applied: ${(await applySyncLink(fresh.url, link)).applied.join(', ')}`);

  // The timesheet first, its options row later, in one transaction: synced at commit.
  await fresh.client.query('BEGIN');
  await fresh.client.query(`INSERT INTO timesheet_new VALUES (1, 33, 'approved', 14), (2, 34, 'submitted', 14)`);
  await fresh.client.query('INSERT INTO timesheet_options VALUES (14, 15)');
  await fresh.client.query('COMMIT');
  const { rows } = await old.client.query('SELECT * FROM timesheet_old ORDER BY id');
  for (const row of rows) console.log(`timesheet_old: ${JSON.stringify(row)}`);

  // The hospital moves: only the options row changes, and both old rows follow.
  await fresh.client.query('UPDATE timesheet_options SET hospital_id = 16 WHERE id = 14');
  const moved = await old.client.query('SELECT id, hospital_id FROM timesheet_old ORDER BY id');
  console.log(`after the options change: ${moved.rows.map((row) => `${row.id} -> ${row.hospital_id}`).join('; ')}`);

  console.log(`removed: ${(await removeSyncLink(fresh.url, link)).removed.length} steps`);
  await removeSyncLink(old.url, syncEndpoint({ table: 'timesheet_old', key: ['id'], columns }));
} finally {
  await Promise.all([old.stop(), fresh.stop()]);
}
