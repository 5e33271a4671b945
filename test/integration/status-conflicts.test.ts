import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import {
  applySyncLink,
  buildMigration,
  drainOutbox,
  env,
  fdwLink,
  formatStatus,
  status,
  syncEndpoint,
  syncTrigger,
  type ConflictPolicyOptions,
} from '../../src/index.js';
import type { ServerPair } from '../harness/pair.js';
import { connectionString, type PgServer } from '../harness/server.js';
import { loginRole, ROLE_PASSWORD } from '../harness/roles.js';
import { useServers } from '../harness/suite.js';

// The status view's conflicts: a key both sides of a two-way outbox changed between drains is
// settled by the policy and logged; status shows it, and the doctor's warning about it.
const ORDERS_DDL = 'CREATE TABLE orders (id bigint PRIMARY KEY, name text NOT NULL, updated_at timestamptz NOT NULL)';
const COLUMNS = ['id', 'name', 'updated_at'];

let pair: ServerPair;
let legacy: pg.Client;
let app: pg.Client;
let names: { legacy: string; app: string };

/** This side's outbox sync to `server`: app always wins. */
function outboxSync(server: 'app' | 'legacy') {
  return syncTrigger({
    server,
    table: 'orders',
    key: ['id'],
    columns: COLUMNS,
    delivery: 'outbox',
    ignoreWritesBy: { role: `status_from_${server}` },
    conflicts: { thisSide: server === 'app' ? 'legacy' : 'app', winner: 'app' } as ConflictPolicyOptions,
  });
}

const link = (other: PgServer, database: string, server: string, outgoing: string) =>
  fdwLink({
    name: server,
    host: other.peerHost,
    port: other.peerPort,
    dbname: database,
    userMappings: [{ user: outgoing, password: env('STATUS_CONFLICTS_PASSWORD') }],
  });

useServers('statusconflicts', async (servers) => {
  ({ pair, legacy, app, names } = servers);
  process.env.STATUS_CONFLICTS_PASSWORD = ROLE_PASSWORD;
  await loginRole(legacy, 'status_from_app');
  await loginRole(app, 'status_from_legacy');
  await legacy.query(ORDERS_DDL);
  await app.query(ORDERS_DDL);
  const endpoint = (incoming: string) =>
    buildMigration(
      'orders endpoint',
      syncEndpoint({ table: 'orders', key: ['id'], columns: COLUMNS, grantTo: incoming }),
    );
  await applySyncLink(app, [endpoint('status_from_legacy')]);
  await applySyncLink(legacy, [endpoint('status_from_app')]);
  await applySyncLink(app, [
    buildMigration('to legacy', link(pair.legacy, names.legacy, 'legacy', 'status_from_app'), outboxSync('legacy')),
  ]);
  await applySyncLink(legacy, [
    buildMigration('to app', link(pair.app, names.app, 'app', 'status_from_legacy'), outboxSync('app')),
  ]);
});

describe('status: conflicts', () => {
  it('shows the conflicts a two-way outbox settled, newest first, with the doctor warning', async () => {
    await app.query(`INSERT INTO orders VALUES (1, 'first', now())`);
    expect((await drainOutbox(app, outboxSync('legacy'))).error).toBeNull();
    const calm = await status(connectionString(pair.app, names.app));
    expect(calm.conflicts).toEqual([]);

    // Both sides change order 1 before either drains: legacy's version reaches app first.
    await app.query(`UPDATE orders SET name = 'app', updated_at = now() WHERE id = 1`);
    await legacy.query(`UPDATE orders SET name = 'legacy', updated_at = now() WHERE id = 1`);
    expect((await drainOutbox(legacy, outboxSync('app'))).error).toBeNull();
    expect((await drainOutbox(app, outboxSync('legacy'))).error).toBeNull();
    expect((await legacy.query('SELECT name FROM orders')).rows).toEqual([{ name: 'app' }]);

    const now = await status(app);
    expect(now.conflicts).toEqual([
      expect.objectContaining({
        key: { id: 1 },
        winner: 'app',
        thisVersion: expect.objectContaining({ name: 'app' }),
        otherVersion: expect.objectContaining({ name: 'legacy' }),
      }),
    ]);
    expect(now.findings).toContainEqual(expect.objectContaining({ check: 'conflicts', severity: 'warning' }));
    expect(now.exitCode).toBe(1);
    const screen = formatStatus(now);
    expect(screen).toMatch(
      /\nConflicts \(1 in the last 24 h\)\n {2}when +sync +key +winner +policy\n {2}\S+ +.+ +\{"id":1\} +app +app wins\n/,
    );
    expect((await status(legacy)).conflicts).toEqual([]);
  });
});
