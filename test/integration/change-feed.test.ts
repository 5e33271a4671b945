import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import {
  buildMigration,
  changeFeed,
  listenToChanges,
  type ChangeEvent,
  type ChangeListenerStatus,
} from '../../src/index.js';
import { applyInTransaction } from '../harness/apply.js';
import { catalogSnapshot } from '../harness/catalog.js';
import type { ServerPair } from '../harness/pair.js';
import { connect, connectionString } from '../harness/server.js';
import { useServers } from '../harness/suite.js';

// Seed 004: changes of portal.users published by NOTIFY, caught up from the log after a disconnect.
const DDL = `CREATE SCHEMA portal;
CREATE TABLE portal.users (id bigint PRIMARY KEY, email text NOT NULL, name text, bio text, login_count integer NOT NULL DEFAULT 0)`;
const feed = () =>
  changeFeed({
    table: { schema: 'portal', name: 'users' },
    key: ['id'],
    columns: ['id', 'email', 'name', 'bio'],
    channel: 'user_changes',
  });

let pair: ServerPair;
let app: pg.Client;
let database: string;

// Its own servers: a checkpoint moves the position only up to the oldest transaction open
// anywhere on the server, so another file's transactions would make a restart repeat changes.
useServers(
  'feed',
  async (servers) => {
    ({ pair, app } = servers);
    database = servers.names.app;
    await app.query(DDL);
  },
  { private: true },
);

const install = () => applyInTransaction(app, buildMigration('feed', feed()), 'up');

/** A listening connection of its own, collecting payloads. */
async function rawListener(): Promise<{ client: pg.Client; payloads: Array<Record<string, unknown>> }> {
  const client = await connect(pair.app, database);
  const payloads: Array<Record<string, unknown>> = [];
  client.on('notification', (message) => payloads.push(JSON.parse(message.payload!)));
  await client.query('LISTEN user_changes');
  return { client, payloads };
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('Timed out waiting for a condition.');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('change feed', () => {
  it('notifies key, operation, changed columns and row as JSON; ignores columns outside the feed', async () => {
    await install();
    const { client, payloads } = await rawListener();
    try {
      await app.query(`INSERT INTO portal.users (id, email, name) VALUES (1, 'a@example.com', 'Ann')`);
      await app.query(`UPDATE portal.users SET name = 'Anne', bio = 'hi' WHERE id = 1`);
      await app.query('UPDATE portal.users SET login_count = login_count + 1'); // not in the feed
      await app.query('UPDATE portal.users SET id = 2 WHERE id = 1');
      await app.query('DELETE FROM portal.users');
      await until(() => payloads.length >= 4);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(
        payloads.map(({ seq, xid, ...rest }) => {
          expect(xid).toMatch(/^\d+$/);
          return rest;
        }),
      ).toEqual([
        {
          op: 'insert',
          key: { id: 1 },
          oldKey: null,
          changed: null,
          row: { id: 1, email: 'a@example.com', name: 'Ann', bio: null },
        },
        {
          op: 'update',
          key: { id: 1 },
          oldKey: null,
          changed: ['bio', 'name'],
          row: { id: 1, email: 'a@example.com', name: 'Anne', bio: 'hi' },
        },
        {
          op: 'update',
          key: { id: 2 },
          oldKey: { id: 1 },
          changed: ['id'],
          row: { id: 2, email: 'a@example.com', name: 'Anne', bio: 'hi' },
        },
        {
          op: 'delete',
          key: { id: 2 },
          oldKey: null,
          changed: null,
          row: { id: 2, email: 'a@example.com', name: 'Anne', bio: 'hi' },
        },
      ]);
      expect(payloads.map((payload) => Number(payload.seq))).toEqual([1, 2, 3, 4]);
    } finally {
      await client.end();
    }
  });

  it('sends a row too large for NOTIFY by reference; the listener reads it from the log', async () => {
    await install();
    const { client, payloads } = await rawListener();
    const received: ChangeEvent[] = [];
    const listener = listenToChanges({
      connection: connectionString(pair.app, database),
      feed: feed(),
      onChange: (event) => void received.push(event),
    });
    try {
      await until(() => listener.position() !== undefined);
      const bio = 'ü'.repeat(6000); // 12000 bytes
      await app.query(`INSERT INTO portal.users (id, email, bio) VALUES (7, 'big@example.com', $1)`, [bio]);
      await until(() => received.length === 1 && payloads.length === 1);
      expect(payloads[0]).toMatchObject({ op: 'insert', key: { id: 7 }, rowByReference: true });
      expect(payloads[0]).not.toHaveProperty('row');
      expect(received[0]!.row).toEqual({ id: 7, email: 'big@example.com', name: null, bio });
    } finally {
      await listener.stop();
      await client.end();
    }
  });

  it('a listener cut off catches up from the log: every change once, in order, across disconnects and concurrent writers', async () => {
    await install();
    const received: string[] = [];
    const statuses: ChangeListenerStatus[] = [];
    const listener = listenToChanges({
      connection: { connectionString: connectionString(pair.app, database), application_name: 'feed-listener' },
      feed: feed(),
      checkpointIntervalMs: 200,
      retry: { initialMs: 20, maxMs: 100 },
      onChange: (event) => void received.push(`${event.op}:${JSON.stringify(event.key)}`),
      onStatus: (status) => statuses.push(status),
    });
    const writers = await Promise.all([1, 2, 3, 4].map(() => connect(pair.app, database)));
    try {
      await until(() => listener.position() !== undefined);
      // Only this test's listener: other test files may share the server.
      const cut = () =>
        app.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'feed-listener' AND datname = $1`,
          [database],
        );
      // Four writers, 150 small transactions each, while the listener is cut off twice.
      const writing = writers.map(async (writer, index) => {
        for (let n = 0; n < 150; n += 1) {
          const id = index * 1000 + n;
          await writer.query('BEGIN');
          await writer.query(`INSERT INTO portal.users (id, email) VALUES ($1, $2)`, [id, `${id}@example.com`]);
          if (n % 3 === 0) await writer.query(`UPDATE portal.users SET name = 'n' || id WHERE id = $1`, [id]);
          await writer.query('COMMIT');
        }
      });
      await new Promise((resolve) => setTimeout(resolve, 150));
      await cut();
      // Cut again once it is back (it waits its backoff first), so the second cut finds it.
      await until(() => statuses.filter((status) => status.type === 'connected').length >= 2);
      await cut();
      await Promise.all(writing);
      const { rows } = await app.query(
        `SELECT op || ':' || key::text AS change FROM portal.users__changes ORDER BY seq`,
      );
      const expected = rows.map((row) => (row.change as string).replace(/ /g, ''));
      expect(expected).toHaveLength(600 + 200);
      await until(() => received.length >= expected.length);
      await new Promise((resolve) => setTimeout(resolve, 400)); // nothing more may come
      expect([...received].sort()).toEqual([...expected].sort());
      // Per key, every key, the insert comes before its update.
      const opsByKey = new Map<string, string[]>();
      for (const change of received) {
        const at = change.indexOf(':');
        const key = change.slice(at + 1);
        opsByKey.set(key, [...(opsByKey.get(key) ?? []), change.slice(0, at)]);
      }
      for (const [key, ops] of opsByKey) {
        const id = (JSON.parse(key) as { id: number }).id;
        expect({ key, ops }).toEqual({ key, ops: (id % 1000) % 3 === 0 ? ['insert', 'update'] : ['insert'] });
      }
      expect(opsByKey.size).toBe(600);
      expect(statuses.filter((status) => status.type === 'disconnected').length).toBeGreaterThanOrEqual(2);
    } finally {
      await listener.stop();
      await Promise.all(writers.map((writer) => writer.end()));
    }
  }, 60_000);

  it('catching up from the log delivers in seq order across pages, not in the text order of seq', async () => {
    await install();
    // One transaction of 1001 changes, read only from the log (no listener yet): two pages, and
    // seq 1001 (the update of id 5) sorts before seq 5 (its insert) as text.
    await app.query('BEGIN');
    await app.query(
      `INSERT INTO portal.users (id, email) SELECT n, n || '@example.com' FROM generate_series(1, 1000) AS n`,
    );
    await app.query(`UPDATE portal.users SET name = 'five' WHERE id = 5`);
    await app.query('COMMIT');
    const received: ChangeEvent[] = [];
    const listener = listenToChanges({
      connection: connectionString(pair.app, database),
      feed: feed(),
      from: 'beginning',
      onChange: (event) => void received.push(event),
    });
    try {
      await until(() => received.length >= 1001);
      await new Promise((resolve) => setTimeout(resolve, 200)); // nothing more may come
      const seqs = received.map((event) => Number(event.seq));
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(seqs).toHaveLength(1001);
      expect(received.filter((event) => event.key.id === 5).map((event) => event.op)).toEqual(['insert', 'update']);
    } finally {
      await listener.stop();
    }
  });

  it('a named consumer resumes where it left off after a restart', async () => {
    await install();
    const first: string[] = [];
    const caughtUp: ChangeListenerStatus[] = [];
    const options = {
      connection: connectionString(pair.app, database),
      feed: feed(),
      consumer: 'crm',
      checkpointIntervalMs: 50,
    } as const;
    const one = listenToChanges({
      ...options,
      from: 'beginning',
      onChange: (event) => void first.push(JSON.stringify(event.key)),
      onStatus: (status) => caughtUp.push(status),
    });
    await app.query(`INSERT INTO portal.users (id, email) VALUES (1, 'a'), (2, 'b')`);
    await until(() => first.length === 2);
    const checkpoints = caughtUp.length;
    await until(() => caughtUp.length > checkpoints + 1); // a checkpoint after both were delivered
    await one.stop();
    await app.query(`INSERT INTO portal.users (id, email) VALUES (3, 'c')`);
    const second: string[] = [];
    const two = listenToChanges({
      ...options,
      from: 'beginning',
      onChange: (event) => void second.push(JSON.stringify(event.key)),
    });
    try {
      await until(() => second.length >= 1);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(first).toEqual(['{"id":1}', '{"id":2}']);
      expect(second).toEqual(['{"id":3}']);
    } finally {
      await two.stop();
    }
    const { rows } = await app.query('SELECT consumer FROM portal.users__changes_cursors');
    expect(rows).toEqual([{ consumer: 'crm' }]);
  });

  it('a throwing onChange stops the listener with an error naming the change', async () => {
    await install();
    const listener = listenToChanges({
      connection: connectionString(pair.app, database),
      feed: feed(),
      onChange: () => {
        throw new Error('CRM is down');
      },
    });
    await until(() => listener.position() !== undefined);
    await app.query(`INSERT INTO portal.users (id, email) VALUES (5, 'e')`);
    await expect(listener.stopped).rejects.toThrow(
      /^pg-sync-link: the change feed of portal\.users( \(consumer "[^"]+"\))?: onChange failed for change 1 \(insert of \{"id":5\}\): Error: CRM is down/,
    );
  });

  it('prune removes old log entries; down leaves the catalog as it was; unknown columns are named', async () => {
    const before = await catalogSnapshot(app);
    await install();
    await app.query(`INSERT INTO portal.users (id, email) VALUES (1, 'a')`);
    expect((await app.query(`SELECT portal.users__changes_prune('1 hour')`)).rows[0].users__changes_prune).toBe('0');
    expect((await app.query(`SELECT portal.users__changes_prune('-1 second')`)).rows[0].users__changes_prune).toBe('1');
    await applyInTransaction(app, buildMigration('feed', feed()), 'down');
    expect(await catalogSnapshot(app)).toEqual(before);
    const wrong = buildMigration(
      'feed',
      changeFeed({ table: { schema: 'portal', name: 'users' }, key: ['id'], columns: ['email', 'nickname'] }),
    );
    await expect(applyInTransaction(app, wrong, 'up')).rejects.toThrow(
      /cannot set up the change feed of portal\.users: no column nickname in the table/,
    );
    expect(await catalogSnapshot(app)).toEqual(before);
  });

  it('refuses bad options before any SQL', () => {
    expect(() => changeFeed({ table: 'users', key: [] })).toThrow(/needs a key/);
    expect(() => changeFeed({ table: 'users', key: ['id'], channel: 'x'.repeat(64) })).toThrow(/notify channel/);
    expect(() => listenToChanges({ connection: 'postgres://x', feed: {} as never, onChange: () => undefined })).toThrow(
      /changeFeed/,
    );
  });
});
