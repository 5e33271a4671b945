import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import {
  buildMigration,
  diagnose,
  env,
  fdwLink,
  MigrationFailedError,
  syncEndpoint,
  syncTrigger,
  type Migration,
} from '../../src/index.js';
import { applyInTransaction } from '../harness/apply.js';
import { catalogSnapshot } from '../harness/catalog.js';
import { findingsOf } from '../harness/doctor-setup.js';
import type { ServerPair } from '../harness/pair.js';
import { connectionString } from '../harness/server.js';
import { loginRole, ROLE_PASSWORD } from '../harness/roles.js';
import { useServers } from '../harness/suite.js';

// Two-way sync holds only while each side ignores the role the other side connects as. A wrong
// name would install silently and bounce every write: refused when the role does not exist,
// reported by the doctor when it is this side's own outgoing role or not the incoming one.
const COLUMNS = ['id', 'name'];
let pair: ServerPair;
let legacy: pg.Client;
let app: pg.Client;
let names: { legacy: string; app: string };

useServers('ignore', async (servers) => {
  ({ pair, legacy, app, names } = servers);
  process.env.IGNORE_ROLE_PASSWORD = ROLE_PASSWORD;
  await loginRole(legacy, 'sync_from_app');
  await loginRole(app, 'sync_from_legacy');
  for (const client of [legacy, app]) await client.query('CREATE TABLE products (id bigint PRIMARY KEY, name text)');
  await applyInTransaction(
    app,
    buildMigration(
      'endpoint',
      syncEndpoint({ table: 'products', key: ['id'], columns: COLUMNS, grantTo: 'sync_from_legacy' }),
    ),
    'up',
  );
  await applyInTransaction(
    legacy,
    buildMigration(
      'endpoint',
      syncEndpoint({ table: 'products', key: ['id'], columns: COLUMNS, grantTo: 'sync_from_app' }),
    ),
    'up',
  );
});

/** app's link to legacy (connecting as sync_from_app) and its sync, ignoring `ignored`. */
function appSender(ignored: string): Migration {
  const link = fdwLink({
    name: 'legacy',
    host: pair.legacy.peerHost,
    port: pair.legacy.peerPort,
    dbname: names.legacy,
    remoteSettings: { lock_timeout: '400ms' },
    userMappings: [{ user: 'sync_from_app', password: env('IGNORE_ROLE_PASSWORD') }],
  });
  return buildMigration(
    'app sender',
    link,
    syncTrigger({
      server: 'legacy',
      table: 'products',
      key: ['id'],
      columns: COLUMNS,
      ignoreWritesBy: { role: ignored },
    }),
  );
}

const appUrl = () => connectionString(pair.app, names.app);

/** legacy's link to app (connecting as sync_from_legacy) and its sync, ignoring sync_from_app. */
function legacySender(): Migration {
  const link = fdwLink({
    name: 'app',
    host: pair.app.peerHost,
    port: pair.app.peerPort,
    dbname: names.app,
    remoteSettings: { lock_timeout: '400ms' },
    userMappings: [{ user: 'sync_from_legacy', password: env('IGNORE_ROLE_PASSWORD') }],
  });
  return buildMigration(
    'legacy sender',
    link,
    syncTrigger({
      server: 'app',
      table: 'products',
      key: ['id'],
      columns: COLUMNS,
      ignoreWritesBy: { role: 'sync_from_app' },
    }),
  );
}

describe('ignoreWritesBy', () => {
  it("the right role: the doctor confirms it may write into this side's endpoint", async () => {
    await applyInTransaction(app, appSender('sync_from_legacy'), 'up');
    const diagnosis = await diagnose(appUrl());
    expect(findingsOf(diagnosis, 'ignore-writes')).toEqual([
      expect.objectContaining({
        severity: 'ok',
        subject: 'sync of public.products to server legacy',
        message: expect.stringContaining('Ignores writes by role "sync_from_legacy", which may write into'),
      }),
    ]);
  });

  it('writes of replica sessions travel both ways once: the guard holds for triggers that fire always', async () => {
    await applyInTransaction(app, appSender('sync_from_legacy'), 'up');
    await applyInTransaction(legacy, legacySender(), 'up');
    // A write sent back would wait on the row its own transaction holds, and fail at the lock timeout.
    await app.query(
      `SET session_replication_role = replica; INSERT INTO products VALUES (1, 'restored on app'); RESET session_replication_role`,
    );
    await legacy.query(
      `SET session_replication_role = replica; UPDATE products SET name = 'restored on legacy' WHERE id = 1; RESET session_replication_role`,
    );
    for (const client of [app, legacy])
      expect((await client.query('SELECT id::int, name FROM products')).rows).toEqual([
        { id: 1, name: 'restored on legacy' },
      ]);
  });

  it('a role that does not exist is refused at migration time, naming the sync; nothing is left', async () => {
    const before = await catalogSnapshot(app);
    const refused = await applyInTransaction(app, appSender('sync_from_nowhere'), 'up').catch(
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(MigrationFailedError);
    expect((refused as Error).message).toContain(
      'pg-sync-link: the sync of public.products to server legacy ignores writes by role "sync_from_nowhere", which does not exist here',
    );
    expect((refused as Error).message).toContain("the role the other side's user mapping connects to this database as");
    expect(await catalogSnapshot(app)).toEqual(before);
  });

  it('swapped (this side ignores its own outgoing role): the doctor reports a bounce risk as an error', async () => {
    await loginRole(app, 'sync_from_app');
    await applyInTransaction(app, appSender('sync_from_app'), 'up');
    const diagnosis = await diagnose(appUrl());
    expect(findingsOf(diagnosis, 'ignore-writes')).toEqual([
      {
        check: 'ignore-writes',
        severity: 'error',
        subject: 'sync of public.products to server legacy',
        message: `ignoreWritesBy names role "sync_from_app", which is the role this side connects to server legacy as (its own outgoing sync): writes the other side's sync makes here are sent back to it (a loop that ends in a lock timeout).`,
        fix: 'Swap the names: this side ignores the role the other side connects here as, and the other side ignores "sync_from_app".',
      },
    ]);
    expect(diagnosis.exitCode).toBe(1);
    expect(diagnosis.worst).toBe('error');
  });

  it('a role that is not the incoming one: the doctor names the role that is', async () => {
    await loginRole(app, 'someone_else');
    await applyInTransaction(app, appSender('someone_else'), 'up');
    const diagnosis = await diagnose(appUrl());
    expect(findingsOf(diagnosis, 'ignore-writes')).toEqual([
      expect.objectContaining({
        severity: 'error',
        message: expect.stringContaining(
          `"someone_else", which may not write into this side's endpoint views of public.products (INSERT on them is granted to "sync_from_legacy")`,
        ),
        fix: `Set ignoreWritesBy.role to the role the other side's user mapping connects here as (the endpoint's grantTo), probably "sync_from_legacy".`,
      }),
    ]);
  });
});
