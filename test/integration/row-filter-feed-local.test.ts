import knexFactory from 'knex';
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import {
  applySyncLink,
  buildMigration,
  changeFeed,
  listenToChanges,
  removeSyncLink,
  sqlExpression,
  syncTrigger,
  type ChangeEvent,
} from '../../src/index.js';
import { knexMigration } from '../../adapters/knex.js';
import { catalogSnapshot } from '../harness/catalog.js';
import type { ServerPair } from '../harness/pair.js';
import { connectionString } from '../harness/server.js';
import { useServers } from '../harness/suite.js';

// Row filters on one database: a change feed and a same-database sync (the Heroku Connect
// mirror's portal.users <-> salesforce.accounts, both schemas in one database), both ways.
let pair: ServerPair;
let app: pg.Client;
let appDb: string;

const DDL = `CREATE SCHEMA salesforce;
CREATE TABLE salesforce.accounts (sfid text PRIMARY KEY DEFAULT gen_random_uuid()::text, user_id integer UNIQUE, email text, name text);
CREATE SCHEMA portal;
CREATE TABLE portal.users (id integer PRIMARY KEY, email text, name text)`;

const accounts = { schema: 'salesforce', name: 'accounts' };
const users = { schema: 'portal', name: 'users' };
const hasUser = sqlExpression('src.user_id IS NOT NULL');

useServers('rowfilterlocal', async (servers) => {
  ({ pair, app } = servers);
  appDb = servers.names.app;
  await app.query(DDL);
});

const rows = async (query: string) => (await app.query(query)).rows;
const portalUsers = () => rows('SELECT id, name FROM portal.users ORDER BY id');

describe('a filtered change feed', () => {
  it('publishes only matching rows: starting to match is an insert, stopping a delete', async () => {
    const feed = changeFeed({ table: accounts, key: ['sfid'], columns: ['user_id', 'name'], where: hasUser });
    const before = await catalogSnapshot(app);
    await applySyncLink(app, [feed]);
    const received: ChangeEvent[] = [];
    const listener = listenToChanges({
      connection: connectionString(pair.app, appDb),
      feed,
      onChange: (event) => void received.push(event),
    });
    const until = async (done: () => boolean) => {
      for (let waited = 0; !done() && waited < 10_000; waited += 50)
        await new Promise((resolve) => setTimeout(resolve, 50));
    };
    try {
      // A listener without a consumer name starts from now: wait until it is there.
      await until(() => listener.position() !== undefined);
      await app.query(`INSERT INTO salesforce.accounts VALUES ('a', NULL, NULL, 'no user'), ('b', 1, NULL, 'user 1')`);
      await app.query(`UPDATE salesforce.accounts SET name = 'still none' WHERE sfid = 'a'`);
      await app.query(`UPDATE salesforce.accounts SET user_id = 2 WHERE sfid = 'a'`);
      await app.query(`UPDATE salesforce.accounts SET user_id = NULL WHERE sfid = 'b'`);
      await app.query(`UPDATE salesforce.accounts SET name = 'renamed' WHERE sfid = 'a'`);
      await app.query(`DELETE FROM salesforce.accounts`);
      const log = await rows(
        `SELECT op, key->>'sfid' AS sfid, row->>'user_id' AS user_id FROM salesforce.accounts__changes ORDER BY seq`,
      );
      expect(log).toEqual([
        { op: 'insert', sfid: 'b', user_id: '1' },
        { op: 'insert', sfid: 'a', user_id: '2' },
        { op: 'delete', sfid: 'b', user_id: '1' },
        { op: 'update', sfid: 'a', user_id: '2' },
        { op: 'delete', sfid: 'a', user_id: '2' },
      ]);
      await until(() => received.length >= 5);
      expect(received.map((event) => `${event.op} ${(event.key as { sfid: string }).sfid}`)).toEqual([
        'insert b',
        'insert a',
        'delete b',
        'update a',
        'delete a',
      ]);
    } finally {
      await listener.stop();
    }
    await removeSyncLink(app, [feed]);
    expect(await catalogSnapshot(app)).toEqual(before);
  });
});

describe('a filtered same-database sync, both ways', () => {
  // Accounts with a user are portal users; every portal user is an account. Neither loops.
  const toUsers = syncTrigger({
    table: accounts,
    target: users,
    key: ['id'],
    columns: [{ remote: 'id', local: 'user_id' }, 'email', 'name'],
    where: hasUser,
  });
  const toAccounts = syncTrigger({
    table: users,
    target: accounts,
    key: ['user_id'],
    columns: [{ remote: 'user_id', local: 'id' }, 'email', 'name'],
  });

  it('through applySyncLink: accounts without a user stay out, and up/down are exact', async () => {
    const before = await catalogSnapshot(app);
    await applySyncLink(app, [toUsers, toAccounts]);
    await app.query(`INSERT INTO salesforce.accounts (sfid, name) VALUES ('a1', 'no user yet')`);
    expect(await portalUsers()).toEqual([]);
    await app.query(`UPDATE salesforce.accounts SET user_id = 7 WHERE sfid = 'a1'`);
    expect(await portalUsers()).toEqual([{ id: 7, name: 'no user yet' }]);
    // Back from the portal: the same account, not a new one.
    await app.query(`UPDATE portal.users SET name = 'named in the portal' WHERE id = 7`);
    expect(await rows('SELECT sfid, user_id, name FROM salesforce.accounts')).toEqual([
      { sfid: 'a1', user_id: 7, name: 'named in the portal' },
    ]);
    await app.query(`INSERT INTO portal.users VALUES (8, 'p@x', 'portal first')`);
    expect(await rows('SELECT user_id, name FROM salesforce.accounts ORDER BY user_id')).toEqual([
      { user_id: 7, name: 'named in the portal' },
      { user_id: 8, name: 'portal first' },
    ]);
    // Clearing the user deletes the portal user; that delete is not sent back.
    await app.query(`UPDATE salesforce.accounts SET user_id = NULL WHERE sfid = 'a1'`);
    expect(await portalUsers()).toEqual([{ id: 8, name: 'portal first' }]);
    expect(await rows(`SELECT sfid, user_id FROM salesforce.accounts WHERE sfid = 'a1'`)).toEqual([
      { sfid: 'a1', user_id: null },
    ]);
    await app.query('DELETE FROM portal.users');
    await app.query('DELETE FROM salesforce.accounts');
    await removeSyncLink(app, [toUsers, toAccounts]);
    expect(await catalogSnapshot(app)).toEqual(before);
  });

  it('through Knex: the same sync migrates up and down', async () => {
    const knex = knexFactory({ client: 'pg', connection: connectionString(pair.app, appDb) });
    try {
      const before = await catalogSnapshot(app, ['knex_migrations']);
      const migrations = { '001_accounts_to_users': knexMigration(toUsers) };
      const source = {
        migrationSource: {
          getMigrations: async () => Object.keys(migrations),
          getMigrationName: (name: string) => name,
          getMigration: async (name: string) => migrations[name as keyof typeof migrations],
        },
      };
      await knex.migrate.latest(source);
      await app.query(`INSERT INTO salesforce.accounts (sfid, user_id, name) VALUES ('k1', NULL, 'x'), ('k2', 5, 'y')`);
      expect(await portalUsers()).toEqual([{ id: 5, name: 'y' }]);
      await app.query('DELETE FROM salesforce.accounts');
      expect(await portalUsers()).toEqual([]);
      await knex.migrate.rollback(source, true);
      expect(await catalogSnapshot(app, ['knex_migrations'])).toEqual(before);
    } finally {
      await knex.destroy();
    }
  });

  it('refuses a filter that is not a condition, naming the sync, before creating anything', async () => {
    const before = await catalogSnapshot(app);
    const wrong = syncTrigger({ ...toUsersOptions(), where: sqlExpression('src.user_id') });
    await expect(applySyncLink(app, [buildMigration('wrong', wrong)])).rejects.toThrow(
      /cannot set up the sync of salesforce\.accounts to portal\.users: its where filter is of type integer, not boolean/,
    );
    const missing = syncTrigger({ ...toUsersOptions(), where: sqlExpression('src.no_such_column > 0') });
    await expect(applySyncLink(app, [buildMigration('missing', missing)])).rejects.toThrow(
      /its where filter fails: column src\.no_such_column does not exist/,
    );
    expect(await catalogSnapshot(app)).toEqual(before);
  });
});

function toUsersOptions() {
  return {
    table: accounts,
    target: users,
    key: ['id'],
    columns: [{ remote: 'id', local: 'user_id' }, 'email', 'name'],
  };
}
