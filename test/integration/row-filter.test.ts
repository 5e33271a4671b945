import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import {
  backfillTables,
  buildMigration,
  env,
  drainOutbox,
  outboxLag,
  reconcileTables,
  sqlExpression,
  syncEndpoint,
  syncTrigger,
  verifyTables,
  type SyncTriggerOptions,
} from '../../src/index.js';
import { applyInTransaction } from '../harness/apply.js';
import { catalogSnapshot } from '../harness/catalog.js';
import { linkTo } from '../harness/links.js';
import type { ServerPair } from '../harness/pair.js';
import { loginRole, ROLE_PASSWORD } from '../harness/roles.js';
import { useServers } from '../harness/suite.js';

// A Heroku Connect mirror: Salesforce (legacy) creates accounts, some without a portal user
// yet. Only accounts with a user_id are portal users (app): the filter keeps the others out.
let pair: ServerPair;
let legacy: pg.Client;
let app: pg.Client;
let names: { legacy: string; app: string };

const ACCOUNTS_DDL = `CREATE SCHEMA salesforce;
CREATE TABLE salesforce.accounts (
  sfid text PRIMARY KEY DEFAULT gen_random_uuid()::text,
  user_id integer UNIQUE,
  email text,
  name text
)`;
const USERS_DDL = `CREATE SCHEMA portal;
CREATE TABLE portal.users (id integer PRIMARY KEY, email text, name text)`;

type Mode = Pick<SyncTriggerOptions, 'delivery' | 'timing'>;

const sync = (mode: Mode) =>
  syncTrigger({
    server: 'portal',
    table: { schema: 'salesforce', name: 'accounts' },
    remote: { schema: 'portal', name: 'users' },
    key: ['id'],
    columns: [{ remote: 'id', local: 'user_id' }, 'email', 'name'],
    where: sqlExpression('src.user_id IS NOT NULL'),
    ...mode,
  });
const endpoint = () =>
  buildMigration(
    'users endpoint',
    syncEndpoint({ table: { schema: 'portal', name: 'users' }, key: ['id'], columns: ['id', 'email', 'name'] }),
  );
const sender = (mode: Mode) =>
  buildMigration(
    'accounts to portal',
    linkTo(pair.app, names.app, 'ROW_FILTER_APP_PASSWORD', { name: 'portal' }),
    sync(mode),
  );

useServers('rowfilter', async (servers) => {
  ({ pair, legacy, app, names } = servers);
  await legacy.query(ACCOUNTS_DDL);
  await app.query(USERS_DDL);
});

const users = async () =>
  (await app.query<{ id: number; name: string }>('SELECT id, name FROM portal.users ORDER BY id')).rows;

/** Points the link at a closed port: anything sent now fails the writer. */
async function breakLink(): Promise<() => Promise<void>> {
  const { rows } = await legacy.query<{ port: string }>(
    `SELECT split_part(o, '=', 2) AS port FROM pg_foreign_server, unnest(srvoptions) AS o WHERE srvname = 'portal' AND o LIKE 'port=%'`,
  );
  await legacy.query(`ALTER SERVER portal OPTIONS (SET port '1')`);
  return async () => {
    await legacy.query(`ALTER SERVER portal OPTIONS (SET port '${rows[0]!.port}')`);
  };
}

const MODES: [string, Mode][] = [
  ['write-through, immediate', {}],
  ['write-through, at commit', { timing: 'commit' }],
  ['outbox', { delivery: 'outbox' }],
];

describe.each(MODES)('a filtered sync (%s)', (_, mode) => {
  const deliver = async () => {
    if (mode.delivery === 'outbox') await drainOutbox(legacy, sync(mode));
  };
  const nothingPending = async () => {
    if (mode.delivery === 'outbox') expect((await outboxLag(legacy, sync(mode))).pending).toBe(0);
  };

  it('sends matching rows, deletes rows that stop matching, sends nothing for the others; down is exact', async () => {
    await applyInTransaction(app, endpoint(), 'up');
    const before = await catalogSnapshot(legacy);
    await applyInTransaction(legacy, sender(mode), 'up');

    // Accounts without a user never reach the portal: with the portal unreachable, writing them still works.
    const restore = await breakLink();
    await legacy.query(`INSERT INTO salesforce.accounts VALUES ('a1', NULL, 'a1@x', 'no user yet')`);
    await legacy.query(`UPDATE salesforce.accounts SET name = 'still no user' WHERE sfid = 'a1'`);
    await legacy.query(`INSERT INTO salesforce.accounts VALUES ('gone', NULL, NULL, 'never a user')`);
    await legacy.query(`DELETE FROM salesforce.accounts WHERE sfid = 'gone'`);
    // A matching row is sent, so it fails (write-through) while the portal is away.
    if (mode.delivery !== 'outbox') {
      await expect(legacy.query(`INSERT INTO salesforce.accounts VALUES ('x', 99, NULL, 'x')`)).rejects.toThrow(
        /pg-sync-link: INSERT not synced/,
      );
    }
    await restore();
    await nothingPending();
    await deliver();
    expect(await users()).toEqual([]);

    await legacy.query(`INSERT INTO salesforce.accounts VALUES ('a2', 1, 'a2@x', 'has user 1')`);
    await deliver();
    expect(await users()).toEqual([{ id: 1, name: 'has user 1' }]);

    // Starts matching: sent. Stops matching: deleted there.
    await legacy.query(`UPDATE salesforce.accounts SET user_id = 2 WHERE sfid = 'a1'`);
    await legacy.query(`UPDATE salesforce.accounts SET user_id = NULL WHERE sfid = 'a2'`);
    await deliver();
    expect(await users()).toEqual([{ id: 2, name: 'still no user' }]);

    // A moved key of a matching row, and one statement of matching and other rows.
    await legacy.query(`UPDATE salesforce.accounts SET user_id = 3 WHERE sfid = 'a1'`);
    await legacy.query(
      `INSERT INTO salesforce.accounts SELECT 'b' || g, CASE WHEN g % 2 = 0 THEN 100 + g END, NULL, 'bulk ' || g FROM generate_series(1, 10) AS g`,
    );
    await legacy.query(`UPDATE salesforce.accounts SET name = name || '!' WHERE sfid LIKE 'b%'`);
    await deliver();
    expect((await users()).map((row) => row.id)).toEqual([3, 102, 104, 106, 108, 110]);
    expect((await users()).find((row) => row.id === 102)?.name).toBe('bulk 2!');

    // Deleting rows that do not match sends nothing: it works with the portal away.
    const restoreAgain = await breakLink();
    await legacy.query(`DELETE FROM salesforce.accounts WHERE user_id IS NULL`);
    await restoreAgain();
    await nothingPending();
    await legacy.query(`DELETE FROM salesforce.accounts WHERE sfid = 'b2'`);
    await deliver();
    expect((await users()).map((row) => row.id)).toEqual([3, 104, 106, 108, 110]);
    // verifyTables compares only the matching rows.
    await legacy.query(`INSERT INTO salesforce.accounts VALUES ('late', NULL, NULL, 'no user')`);
    await deliver();
    expect((await verifyTables({ local: legacy, remote: app, tables: sync(mode) })).equal).toBe(true);

    await legacy.query('DELETE FROM salesforce.accounts');
    await deliver();
    await applyInTransaction(legacy, sender(mode), 'down');
    expect(await catalogSnapshot(legacy)).toEqual(before);
  });
});

describe('verify, backfill and reconcile of a filtered sync', () => {
  it('compare and copy only the rows that match', async () => {
    const node = sync({});
    await legacy.query(
      `INSERT INTO salesforce.accounts SELECT 's' || g, CASE WHEN g % 2 = 0 THEN g END, 'e' || g, 'n' || g FROM generate_series(1, 20) AS g`,
    );
    // On the portal: one user no matching account stands for, and one that differs.
    await app.query(`INSERT INTO portal.users VALUES (1, NULL, 'stray'), (2, 'e2', 'old name')`);
    const found = await verifyTables({ local: legacy, remote: app, tables: node });
    expect(found.equal).toBe(false);
    expect(found.counts).toEqual({ local: 10, remote: 2 });
    expect(found.missingOnLocal).toEqual([{ id: '1' }]);
    expect(found.differing).toEqual([{ id: '2' }]);
    expect(found.missingOnRemote).toHaveLength(9);

    const copied = await backfillTables({ local: legacy, remote: app, tables: node });
    expect(copied.written).toBe(10);
    const reconciled = await reconcileTables({ local: legacy, remote: app, tables: node, winner: 'local' });
    expect(reconciled.deleted).toBe(1);
    expect((await verifyTables({ local: legacy, remote: app, tables: node })).equal).toBe(true);
    expect((await users()).map((row) => row.id)).toEqual([2, 4, 6, 8, 10, 12, 14, 16, 18, 20]);
  });
});

describe('a filtered two-way sync across servers', () => {
  it('accounts with a user and portal users stay equal, and nothing travels back', async () => {
    process.env.ROW_FILTER_ROLE_PASSWORD = ROLE_PASSWORD;
    for (const [client, role, schema] of [
      [legacy, 'rf_from_portal', 'salesforce'],
      [app, 'rf_from_salesforce', 'portal'],
    ] as const) {
      await loginRole(client, role);
      await client.query(`GRANT USAGE ON SCHEMA ${schema} TO ${role}`);
    }
    await applyInTransaction(
      app,
      buildMigration(
        'users endpoint',
        syncEndpoint({
          table: { schema: 'portal', name: 'users' },
          key: ['id'],
          columns: ['id', 'email', 'name'],
          grantTo: 'rf_from_salesforce',
        }),
      ),
      'up',
    );
    await applyInTransaction(
      legacy,
      buildMigration(
        'accounts endpoint',
        syncEndpoint({
          table: { schema: 'salesforce', name: 'accounts' },
          key: ['user_id'],
          columns: ['user_id', 'email', 'name'],
          grantTo: 'rf_from_portal',
        }),
      ),
      'up',
    );
    const mapping = (user: string) => ({ userMappings: [{ user, password: env('ROW_FILTER_ROLE_PASSWORD') }] });
    await applyInTransaction(
      legacy,
      buildMigration(
        'accounts to portal',
        linkTo(pair.app, names.app, 'ROW_FILTER_APP_PASSWORD', { name: 'portal', ...mapping('rf_from_salesforce') }),
        syncTrigger({
          server: 'portal',
          table: { schema: 'salesforce', name: 'accounts' },
          remote: { schema: 'portal', name: 'users' },
          key: ['id'],
          columns: [{ remote: 'id', local: 'user_id' }, 'email', 'name'],
          where: sqlExpression('src.user_id IS NOT NULL'),
          ignoreWritesBy: { role: 'rf_from_portal' },
        }),
      ),
      'up',
    );
    await applyInTransaction(
      app,
      buildMigration(
        'users to salesforce',
        linkTo(pair.legacy, names.legacy, 'ROW_FILTER_LEGACY_PASSWORD', {
          name: 'salesforce',
          ...mapping('rf_from_portal'),
        }),
        syncTrigger({
          server: 'salesforce',
          table: { schema: 'portal', name: 'users' },
          remote: { schema: 'salesforce', name: 'accounts' },
          key: ['user_id'],
          columns: [{ remote: 'user_id', local: 'id' }, 'email', 'name'],
          ignoreWritesBy: { role: 'rf_from_salesforce' },
        }),
      ),
      'up',
    );
    const accounts = async () =>
      (await legacy.query('SELECT sfid, user_id, name FROM salesforce.accounts ORDER BY sfid')).rows;

    await legacy.query(`INSERT INTO salesforce.accounts (sfid, name) VALUES ('a1', 'no user yet')`);
    expect(await users()).toEqual([]);
    await legacy.query(`UPDATE salesforce.accounts SET user_id = 7 WHERE sfid = 'a1'`);
    expect(await users()).toEqual([{ id: 7, name: 'no user yet' }]);
    // Back from the portal: the same account, not a new one.
    await app.query(`UPDATE portal.users SET name = 'named in the portal' WHERE id = 7`);
    expect(await accounts()).toEqual([{ sfid: 'a1', user_id: 7, name: 'named in the portal' }]);
    await app.query(`INSERT INTO portal.users VALUES (8, 'p@x', 'portal first')`);
    expect((await accounts()).map((row) => row.user_id).sort()).toEqual([7, 8]);
    // Clearing the user deletes the portal user there; that delete does not come back.
    await legacy.query(`UPDATE salesforce.accounts SET user_id = NULL WHERE sfid = 'a1'`);
    expect(await users()).toEqual([{ id: 8, name: 'portal first' }]);
    const after = await accounts();
    expect(after).toHaveLength(2);
    expect(after.find((row) => row.sfid === 'a1')).toEqual({ sfid: 'a1', user_id: null, name: 'named in the portal' });
    expect(after.find((row) => row.sfid !== 'a1')).toMatchObject({ user_id: 8, name: 'portal first' });
  });
});
