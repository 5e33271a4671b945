// How your own test suite can use pg-sync-link: two throwaway servers from
// pg-sync-link/testing, the link applied in setup, real writes in the test.
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { applySyncLink, env, fdwLink, removeSyncLink, syncEndpoint, syncTrigger } from 'pg-sync-link';
import { startTestServers, type TestServers } from 'pg-sync-link/testing';

const COLUMNS = ['id', 'email'];
let servers: TestServers;
let link: Parameters<typeof applySyncLink>[1];

beforeAll(async () => {
  servers = await startTestServers();
  const { legacy, app } = servers.servers as Record<'legacy' | 'app', TestServers['servers'][string]>;
  for (const server of [legacy, app]) {
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    await client.query('CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL)');
    await client.end();
  }
  await applySyncLink(legacy.url, syncEndpoint({ table: 'users', key: ['id'], columns: COLUMNS }));
  process.env.TEST_LEGACY_PASSWORD = legacy.password;
  link = [
    fdwLink({
      name: 'legacy',
      host: legacy.peerHost,
      port: legacy.peerPort,
      dbname: legacy.database,
      userMappings: [{ user: legacy.user, password: env('TEST_LEGACY_PASSWORD') }],
    }),
    syncTrigger({ server: 'legacy', table: 'users', key: ['id'], columns: COLUMNS }),
  ];
  await applySyncLink(app.url, link);
}, 120_000);

afterAll(async () => {
  if (servers) {
    await removeSyncLink(servers.servers.app!.url, link);
    await servers.dispose();
  }
});

it('a user created in app exists in legacy', async () => {
  const app = new pg.Client({ connectionString: servers.servers.app!.url });
  const legacy = new pg.Client({ connectionString: servers.servers.legacy!.url });
  await Promise.all([app.connect(), legacy.connect()]);
  await app.query(`INSERT INTO users VALUES (1, 'ada@example.com')`);
  const { rows } = await legacy.query('SELECT email FROM users WHERE id = 1');
  await Promise.all([app.end(), legacy.end()]);
  expect(rows).toEqual([{ email: 'ada@example.com' }]);
});
