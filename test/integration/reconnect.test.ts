import net from 'node:net';
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import {
  buildMigration,
  changeFeed,
  listenToChanges,
  startOutboxWorker,
  syncTrigger,
  type ChangeListenerStatus,
  type OutboxWorkerEvent,
} from '../../src/index.js';
import { applyInTransaction } from '../harness/apply.js';
import type { ServerPair } from '../harness/pair.js';
import { connect, type PgServer } from '../harness/server.js';
import { useServers } from '../harness/suite.js';

// The listener and the outbox worker share one reconnect loop: while the server is down they
// try once per announced wait (capped, with jitter), and say what is missing when not installed.
let pair: ServerPair;
let legacy: pg.Client;
let database: string;

useServers(
  'reconnect',
  async (servers) => {
    ({ pair, legacy } = servers);
    database = servers.names.legacy;
    await legacy.query('CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL)');
  },
  { private: true },
);

const feed = () => changeFeed({ table: 'users', key: ['id'] });
const outboxSync = () =>
  syncTrigger({ server: 'elsewhere', table: 'users', key: ['id'], columns: ['id', 'email'], delivery: 'outbox' });

/** A TCP proxy to the server that counts the connections made through it. */
async function countingProxy(
  server: PgServer,
): Promise<{ port: number; count: () => number; close: () => Promise<void> }> {
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const proxy = net.createServer((client) => {
    connections += 1;
    const upstream = net.connect(server.port, server.host);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    port: (proxy.address() as net.AddressInfo).port,
    count: () => connections,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => proxy.close(() => resolve()));
    },
  };
}

const through = (port: number, user = pair.legacy.user, password = pair.legacy.password) => ({
  host: '127.0.0.1',
  port,
  user,
  password,
  database,
});

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('Timed out waiting for a condition.');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('reconnecting', () => {
  it('says which migration or grant is missing, keeps waiting, and starts once it is there', async () => {
    await legacy.query(`CREATE ROLE feed_reader LOGIN PASSWORD 'reader'`);
    const statuses: ChangeListenerStatus[] = [];
    const events: OutboxWorkerEvent[] = [];
    const proxy = await countingProxy(pair.legacy);
    const listener = listenToChanges({
      connection: through(proxy.port, 'feed_reader', 'reader'),
      feed: feed(),
      consumer: 'crm',
      onChange: () => undefined,
      retry: { initialMs: 50, maxMs: 200 },
      onStatus: (status) => statuses.push(status),
    });
    const worker = startOutboxWorker({
      connection: through(proxy.port),
      syncs: [outboxSync()],
      retry: { initialMs: 50, maxMs: 200 },
      onEvent: (event) => events.push(event),
    });
    try {
      await until(
        () =>
          statuses.some((status) => status.type === 'disconnected') &&
          events.some((event) => event.type === 'disconnected'),
      );
      expect(statuses.find((status) => status.type === 'disconnected')).toMatchObject({
        error:
          'pg-sync-link: the change feed of public.users is not installed in this database (no table public.users__changes): apply the migration with changeFeed({ table: "users", ... }) here; the listener keeps retrying until then.',
      });
      expect(events.find((event) => event.type === 'disconnected')).toMatchObject({
        error: expect.stringMatching(
          /^pg-sync-link: the outbox of public\.users to server elsewhere is not installed in this database \(no function public\.users__drain_elsewhere\(integer, integer\)\)/,
        ),
      });

      await applyInTransaction(legacy, buildMigration('feed', feed()), 'up');
      const missingGrant =
        'pg-sync-link: the role feed_reader may not use the change feed of public.users: GRANT SELECT ON public.users__changes TO feed_reader; GRANT SELECT, INSERT, UPDATE ON public.users__changes_cursors TO feed_reader; the listener keeps retrying until then.';
      await until(() => statuses.some((status) => status.type === 'disconnected' && status.error === missingGrant));
      await legacy.query(
        'GRANT SELECT ON users__changes TO feed_reader; GRANT SELECT, INSERT, UPDATE ON users__changes_cursors TO feed_reader',
      );
      await until(() => statuses.some((status) => status.type === 'caught-up'));
    } finally {
      await Promise.all([listener.stop(), worker.stop()]);
      await proxy.close();
      await legacy.query('DROP OWNED BY feed_reader; DROP ROLE feed_reader');
    }
  });

  it('while the server is down, tries once per announced wait, not in a tight loop', async () => {
    await applyInTransaction(legacy, buildMigration('feed', feed()), 'up');
    const statuses: ChangeListenerStatus[] = [];
    const events: OutboxWorkerEvent[] = [];
    const proxies = { listener: await countingProxy(pair.legacy), worker: await countingProxy(pair.legacy) };
    const retry = { initialMs: 100, maxMs: 400 };
    const seen: unknown[] = [];
    const listener = listenToChanges({
      connection: through(proxies.listener.port),
      feed: feed(),
      onChange: (change) => void seen.push(change.key),
      retry,
      onStatus: (status) => statuses.push(status),
    });
    // Its outbox is not installed: it retries like a lost connection, through the same loop.
    const worker = startOutboxWorker({
      connection: through(proxies.worker.port),
      syncs: [outboxSync()],
      retry,
      onEvent: (event) => events.push(event),
    });
    try {
      await until(() => statuses.some((status) => status.type === 'caught-up'));
      await pair.legacy.stop();
      try {
        const start = { listener: proxies.listener.count(), worker: proxies.worker.count(), at: Date.now() };
        await new Promise((resolve) => setTimeout(resolve, 3_000));
        const elapsed = Date.now() - start.at;
        // Waits of at least 75 ms, then 150, then 300 (the cap less a quarter): never ~40 tries a second.
        const bound = Math.ceil(elapsed / 300) + 3;
        for (const made of [proxies.listener.count() - start.listener, proxies.worker.count() - start.worker]) {
          expect(made).toBeGreaterThanOrEqual(2);
          expect(made).toBeLessThanOrEqual(bound);
        }
        const announced = statuses.filter(
          (status): status is Extract<ChangeListenerStatus, { type: 'disconnected' }> => status.type === 'disconnected',
        );
        expect(announced.length).toBeGreaterThanOrEqual(2);
        expect(Math.max(...announced.map((status) => status.retryInMs))).toBeLessThanOrEqual(400);
        for (const status of announced)
          expect(status.error).toMatch(/^pg-sync-link: the change feed of public\.users: /);
      } finally {
        await pair.legacy.start();
      }
      // Back up: the same listener reconnects within its capped wait and delivers again.
      const client = await connect(pair.legacy, database);
      try {
        await client.query(`INSERT INTO users VALUES (1, 'back')`);
        await until(() => seen.length > 0);
        expect(seen).toEqual([{ id: 1 }]);
      } finally {
        await client.end();
      }
    } finally {
      await Promise.all([listener.stop(), worker.stop()]);
      await proxies.listener.close();
      await proxies.worker.close();
    }
  });
});
