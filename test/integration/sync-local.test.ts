import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { buildMigration, diagnose, sqlExpression, syncTrigger } from '../../src/index.js';
import { applyInTransaction } from '../harness/apply.js';
import { catalogSnapshot } from '../harness/catalog.js';
import { useServers } from '../harness/suite.js';

// Seed 004: two schemas of one database kept in step, with no link at all.
const DDL = `CREATE SCHEMA portal; CREATE SCHEMA salesforce;
CREATE TABLE portal.users (id bigint PRIMARY KEY, email text NOT NULL, first_name text, last_name text);
CREATE TABLE salesforce.accounts (user_id bigint PRIMARY KEY, email__c text NOT NULL, name text)`;

const usersToAccounts = () =>
  syncTrigger({
    table: { schema: 'portal', name: 'users' },
    target: { schema: 'salesforce', name: 'accounts' },
    key: ['user_id'],
    columns: [
      { remote: 'user_id', local: 'id' },
      { remote: 'email__c', local: 'email' },
      { remote: 'name', expression: sqlExpression(`NULLIF(concat_ws(' ', src.first_name, src.last_name), '')`) },
    ],
  });
// The way back carries only what the accounts side can say.
const accountsToUsers = () =>
  syncTrigger({
    table: { schema: 'salesforce', name: 'accounts' },
    target: { schema: 'portal', name: 'users' },
    key: ['id'],
    columns: [
      { remote: 'id', local: 'user_id' },
      { remote: 'email', local: 'email__c' },
    ],
  });

let app: pg.Client;
useServers('local', async (servers) => {
  app = servers.app;
  await app.query(DDL);
});

const accounts = async () =>
  (await app.query('SELECT user_id::int, email__c, name FROM salesforce.accounts ORDER BY user_id')).rows;
const users = async () =>
  (await app.query('SELECT id::int, email, first_name, last_name FROM portal.users ORDER BY id')).rows;

describe('same-database sync', () => {
  it('copies inserts, updates, deletes and key moves into the other schema, with renames and expressions', async () => {
    await applyInTransaction(app, buildMigration('sync', usersToAccounts()), 'up');
    await app.query(
      `INSERT INTO portal.users VALUES (1, 'ada@example.com', 'Ada', 'Lovelace'), (2, 'alan@example.com', 'Alan', NULL), (3, 'x@example.com', NULL, NULL)`,
    );
    await app.query(`UPDATE portal.users SET last_name = 'Turing' WHERE id = 2`);
    await app.query('DELETE FROM portal.users WHERE id = 3');
    await app.query('UPDATE portal.users SET id = CASE id WHEN 1 THEN 10 ELSE 1 END');
    expect(await accounts()).toEqual([
      { user_id: 1, email__c: 'alan@example.com', name: 'Alan Turing' },
      { user_id: 10, email__c: 'ada@example.com', name: 'Ada Lovelace' },
    ]);
  });

  it("two ways at once does not loop: each side's writes arrive on the other once", async () => {
    await applyInTransaction(app, buildMigration('both', usersToAccounts(), accountsToUsers()), 'up');
    await app.query(`INSERT INTO portal.users VALUES (1, 'ada@example.com', 'Ada', 'Lovelace')`);
    await app.query(`INSERT INTO salesforce.accounts VALUES (2, 'grace@example.com', 'Grace Hopper')`);
    await app.query(`UPDATE salesforce.accounts SET email__c = 'ada@lovelace.example' WHERE user_id = 1`);
    await app.query('DELETE FROM portal.users WHERE id = 2');
    expect(await users()).toEqual([{ id: 1, email: 'ada@lovelace.example', first_name: 'Ada', last_name: 'Lovelace' }]);
    expect(await accounts()).toEqual([{ user_id: 1, email__c: 'ada@lovelace.example', name: 'Ada Lovelace' }]);
    // No link is involved: the doctor does not take these triggers for syncs to a server.
    const diagnosis = await diagnose(app);
    expect(diagnosis.findings.filter((finding) => finding.severity !== 'ok')).toEqual([]);
  });

  it('a chain carries a change all the way; a ring stops where it started', async () => {
    await app.query(
      'CREATE TABLE a (id int PRIMARY KEY, v text); CREATE TABLE b (id int PRIMARY KEY, v text); CREATE TABLE c (id int PRIMARY KEY, v text)',
    );
    const hop = (from: string, to: string) =>
      syncTrigger({ table: from, target: to, key: ['id'], columns: ['id', 'v'] });
    await applyInTransaction(app, buildMigration('chain', hop('a', 'b'), hop('b', 'c')), 'up');
    await app.query(`INSERT INTO a VALUES (1, 'one')`);
    expect((await app.query('SELECT v FROM c')).rows).toEqual([{ v: 'one' }]);
    await applyInTransaction(app, buildMigration('ring', hop('c', 'a')), 'up');
    await app.query(`UPDATE b SET v = 'from b'`);
    for (const table of ['a', 'b', 'c'])
      expect((await app.query(`SELECT v FROM ${table}`)).rows).toEqual([{ v: 'from b' }]);
  });

  it('a failure in the target fails the statement, naming the sync; neither table changes', async () => {
    await app.query("ALTER TABLE salesforce.accounts ADD CONSTRAINT real_email CHECK (email__c LIKE '%@%')");
    await applyInTransaction(app, buildMigration('sync', usersToAccounts()), 'up');
    await expect(app.query(`INSERT INTO portal.users VALUES (1, 'nope', NULL, NULL)`)).rejects.toThrow(
      /pg-sync-link: INSERT not synced from portal\.users to salesforce\.accounts: new row for relation "accounts" violates check constraint "real_email"/,
    );
    expect(await users()).toEqual([]);
    expect(await accounts()).toEqual([]);
  });

  it('up then down leaves the catalog as it was; wrong columns and a missing unique key are refused at migration time', async () => {
    const before = await catalogSnapshot(app);
    const both = buildMigration('both', usersToAccounts(), accountsToUsers());
    await applyInTransaction(app, both, 'up');
    await applyInTransaction(app, both, 'down');
    expect(await catalogSnapshot(app)).toEqual(before);

    const wrongColumn = syncTrigger({
      table: { schema: 'portal', name: 'users' },
      target: { schema: 'salesforce', name: 'accounts' },
      key: ['user_id'],
      columns: [{ remote: 'user_id', local: 'idd' }],
    });
    await expect(applyInTransaction(app, buildMigration('x', wrongColumn), 'up')).rejects.toThrow(
      /cannot set up the sync of portal\.users to salesforce\.accounts: column src\.idd does not exist/,
    );
    await app.query('CREATE TABLE salesforce.leads (user_id bigint, email text)');
    const noKey = syncTrigger({
      table: { schema: 'portal', name: 'users' },
      target: { schema: 'salesforce', name: 'leads' },
      key: ['user_id'],
      columns: [{ remote: 'user_id', local: 'id' }],
    });
    await expect(applyInTransaction(app, buildMigration('x', noKey), 'up')).rejects.toThrow(
      /table salesforce\.leads has no primary key or unique index on exactly the sync key \(user_id\)/,
    );
    await app.query('DROP TABLE salesforce.leads');
    expect(await catalogSnapshot(app)).toEqual(before);
  });

  it('refuses a target with a server, and the table as its own target', () => {
    expect(() => syncTrigger({ server: 'x', target: 'b', table: 'a', key: ['id'], columns: ['id'] } as never)).toThrow(
      /server \(and remote\) for another database, or target/,
    );
    expect(() =>
      syncTrigger({ table: 'a', target: { schema: 'public', name: 'a' }, key: ['id'], columns: ['id'] }),
    ).toThrow(/the target is the table itself/);
  });
});
