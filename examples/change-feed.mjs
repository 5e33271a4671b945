// A change feed: the legacy app writes portal.users; a listener in the new app gets
// each change as JSON and keeps its own table up to date — also the changes made while it was
// disconnected, which NOTIFY alone would have lost.
import { applySyncLink, changeFeed, listenToChanges, removeSyncLink } from 'pg-sync-link';
import { startServer } from './support/embedded-server.mjs';

const server = await startServer('portal');
const db = server.client;
try {
  await db.query(`CREATE SCHEMA portal; CREATE SCHEMA salesforce;
    CREATE TABLE portal.users (id bigint PRIMARY KEY, email text NOT NULL, first_name text, last_name text, last_login timestamptz);
    CREATE TABLE salesforce.accounts (user_id bigint PRIMARY KEY, email text NOT NULL, full_name text)`);
  // last_login changes often and matters to nobody downstream: it is left out of the feed.
  const users = changeFeed({
    table: { schema: 'portal', name: 'users' },
    key: ['id'],
    columns: ['id', 'email', 'first_name', 'last_name'],
  });
  await applySyncLink(db, users);

  const seen = /** @type {string[]} */ ([]);
  const listener = listenToChanges({
    connection: { connectionString: server.url, application_name: 'accounts-listener' },
    feed: users,
    consumer: 'salesforce-accounts',
    checkpointIntervalMs: 200,
    retry: { initialMs: 50, maxMs: 500 },
    onChange: async (change) => {
      seen.push(`${change.op} ${change.key.id}${change.changed ? ` (${change.changed.join(', ')})` : ''}`);
      const { row } = change;
      if (change.op === 'delete') await db.query('DELETE FROM salesforce.accounts WHERE user_id = $1', [change.key.id]);
      else {
        await db.query(
          `INSERT INTO salesforce.accounts VALUES ($1, $2, $3) ON CONFLICT (user_id) DO UPDATE SET email = EXCLUDED.email, full_name = EXCLUDED.full_name`,
          [row.id, row.email, [row.first_name, row.last_name].filter(Boolean).join(' ')],
        );
      }
    },
  });
  await until(() => listener.position() !== undefined);

  await db.query(
    `INSERT INTO portal.users (id, email, first_name, last_name) VALUES (1, 'ada@example.com', 'Ada', 'Lovelace'), (2, 'alan@example.com', 'Alan', 'Turing')`,
  );
  await db.query(`UPDATE portal.users SET last_login = now()`); // not in the feed: no change
  await db.query(`UPDATE portal.users SET email = 'ada@lovelace.example' WHERE id = 1`);
  await until(() => seen.length === 3);

  // The listener's connection is cut; the legacy app goes on writing meanwhile.
  await db.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'accounts-listener'`);
  await db.query(`DELETE FROM portal.users WHERE id = 2`);
  await db.query(`INSERT INTO portal.users (id, email, first_name) VALUES (3, 'grace@example.com', 'Grace')`);
  await until(() => seen.length === 5);
  await listener.stop();

  console.log(`changes received: ${seen.join('; ')}`);
  const { rows } = await db.query('SELECT user_id, email, full_name FROM salesforce.accounts ORDER BY user_id');
  console.log(`salesforce.accounts: ${rows.map((row) => `${row.user_id} ${row.email} ${row.full_name}`).join('; ')}`);
  await removeSyncLink(db, users);
  console.log('feed removed');
} finally {
  await server.stop();
}

/** @param {() => boolean} condition */
async function until(condition) {
  const deadline = Date.now() + 30_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
