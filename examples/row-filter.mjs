// A row filter: Salesforce creates accounts before they have a portal user. Those rows stay
// out of portal.users; setting the user later sends the row, clearing it deletes it there.
import { applySyncLink, env, fdwLink, removeSyncLink, sqlExpression, syncEndpoint, syncTrigger } from 'pg-sync-link';
import { startServer } from './support/embedded-server.mjs';

const [portal, salesforce] = await Promise.all([startServer('portal'), startServer('salesforce')]);
try {
  await portal.client.query('CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, name text)');
  await salesforce.client.query(
    'CREATE TABLE accounts (id bigint PRIMARY KEY, user_id bigint UNIQUE, email text NOT NULL, name text)',
  );
  process.env.PORTAL_DB_PASSWORD = portal.password;

  const columns = ['id', 'email', 'name'];
  const endpoint = syncEndpoint({ table: 'users', key: ['id'], columns });
  await applySyncLink(portal.client, endpoint);
  const link = [
    fdwLink({
      name: 'portal',
      host: portal.host,
      port: portal.port,
      dbname: portal.database,
      userMappings: [{ user: portal.user, password: env('PORTAL_DB_PASSWORD') }],
    }),
    syncTrigger({
      server: 'portal',
      table: 'accounts',
      remote: { name: 'users' },
      key: ['id'],
      columns: [{ remote: 'id', local: 'user_id' }, 'email', 'name'],
      // Only accounts that have a portal user: the others are not sent.
      where: sqlExpression('src.user_id IS NOT NULL'),
    }),
  ];
  await applySyncLink(salesforce.client, link);

  const users = async () => {
    const { rows } = await portal.client.query('SELECT id, email FROM users ORDER BY id');
    return rows.length ? rows.map((row) => `${row.id} ${row.email}`).join('; ') : '(none)';
  };
  await salesforce.client.query(
    `INSERT INTO accounts VALUES (1, 7, 'ada@example.com', 'Ada'), (2, NULL, 'grace@example.com', 'Grace')`,
  );
  console.log(`two accounts, one with a user; portal.users: ${await users()}`);
  await salesforce.client.query('UPDATE accounts SET user_id = 8 WHERE id = 2');
  console.log(`grace gets a user; portal.users: ${await users()}`);
  await salesforce.client.query('UPDATE accounts SET user_id = NULL WHERE id = 1');
  console.log(`ada's user is cleared; portal.users: ${await users()}`);

  await removeSyncLink(salesforce.client, link);
  await removeSyncLink(portal.client, endpoint);
  console.log('removed both sides');
} finally {
  await Promise.all([portal.stop(), salesforce.stop()]);
}
