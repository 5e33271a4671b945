import { expect, it } from 'vitest';
import { buildMigration, env, runMigration, userMapping } from '../../src/index.js';
import { uniqueRole } from '../harness/roles.js';
import { useServers } from '../harness/suite.js';

// A bound secret is a bind parameter, which a server logging statements logs too unless
// log_parameter_max_length is 0: the secret path sets it to 0 where the role may.
const servers = useServers('secretlog', async ({ app }) => {
  process.env.PG_SYNC_LINK_SECRET_LOG_PASSWORD = 'never-logged-7f3a';
  await app.query('CREATE EXTENSION postgres_fdw');
  await app.query(`CREATE SERVER remote FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'localhost', dbname 'x')`);
});

const mapping = buildMigration(
  'mapping',
  userMapping({ server: 'remote', user: 'someone', password: env('PG_SYNC_LINK_SECRET_LOG_PASSWORD') }),
);
const settings = async () =>
  (
    await servers.app.query(
      `SELECT current_setting('log_parameter_max_length') AS logged, coalesce(current_setting('pg_sync_link.secret_1', true), '') AS secret`,
    )
  ).rows[0];

it('a superuser session gets its own log_parameter_max_length back afterwards', async () => {
  const { app } = servers;
  await app.query('SET log_parameter_max_length = 1234');
  const seen: string[] = [];
  await runMigration(mapping, 'up', async (sql, values) => {
    if (values.length > 0)
      seen.push((await app.query('SHOW log_parameter_max_length')).rows[0].log_parameter_max_length);
    return app.query(sql, [...values]);
  });
  expect(seen).toEqual(['0']);
  expect(await settings()).toEqual({ logged: '1234B', secret: '' });
});

it('a role that may not change it still runs the statement, and the setting stays as it was', async () => {
  const { app } = servers;
  const role = uniqueRole('secretlog_limited');
  await app.query(`CREATE ROLE ${role}`);
  await app.query(`GRANT USAGE ON FOREIGN SERVER remote TO ${role}`);
  await app.query(`SET ROLE ${role}`);
  try {
    await runMigration(mapping, 'up', (sql, values) => app.query(sql, [...values]));
    expect(await settings()).toEqual({ logged: '-1', secret: '' });
    const { rows } = await app.query(`SELECT usename FROM pg_user_mappings WHERE srvname = 'remote'`);
    expect(rows).toEqual([{ usename: role }]);
    await runMigration(mapping, 'down', (sql, values) => app.query(sql, [...values]));
  } finally {
    await app.query('RESET ROLE');
    await app.query(`REVOKE USAGE ON FOREIGN SERVER remote FROM ${role}`);
    await app.query(`DROP ROLE ${role}`);
  }
});
