import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type pg from 'pg';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { buildMigration, startOutboxWorker, syncEndpoint, syncTrigger } from '../../src/index.js';
import { applyInTransaction } from '../harness/apply.js';
import { linkTo } from '../harness/links.js';
import type { ServerPair } from '../harness/pair.js';
import { connectionString } from '../harness/server.js';
import { useServers } from '../harness/suite.js';

// The outbox worker's Prometheus metrics, scraped in the text format from a real worker that
// delivers from app to legacy: on its own port, or through the app's registry.
let pair: ServerPair;
let app: pg.Client;
let appUrl: string;

const ITEMS = 'CREATE TABLE items (id bigint PRIMARY KEY, label text)';
const sync = () =>
  syncTrigger({ server: 'legacy', table: 'items', key: ['id'], columns: ['id', 'label'], delivery: 'outbox' });
const SYNC = 'public.items to server legacy';

useServers('metrics', async (servers) => {
  ({ pair, app } = servers);
  appUrl = connectionString(pair.app, servers.names.app);
  await servers.legacy.query(ITEMS);
  await app.query(ITEMS);
  await applyInTransaction(
    servers.legacy,
    buildMigration('endpoint', syncEndpoint({ table: 'items', key: ['id'], columns: ['id', 'label'] })),
    'up',
  );
  await applyInTransaction(
    app,
    buildMigration('outbox', linkTo(pair.legacy, servers.names.legacy, 'METRICS_LEGACY_PASSWORD'), sync()),
    'up',
  );
});

/** The value of one series in Prometheus text: `name{sync="..."} value`. */
function sample(text: string, name: string, labels = `{sync="${SYNC}"}`): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name}${labels} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

async function until(condition: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('Timed out waiting for a condition.');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('outbox worker metrics', () => {
  it('serves pending, lag, delivered, failures and drain duration on its port, closed when it stops', async () => {
    const worker = startOutboxWorker({
      connection: appUrl,
      syncs: [sync()],
      pollIntervalMs: 3_600_000,
      retry: { initialMs: 50, maxMs: 200 },
      metrics: { port: 0, host: '127.0.0.1' },
    });
    try {
      const url = await worker.metricsUrl;
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      await app.query(`INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 5) AS g`);
      await worker.idle();
      const response = await fetch(url!);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const text = await response.text();
      expect(text).toContain('# TYPE pg_sync_link_outbox_delivered_total counter');
      expect(sample(text, 'pg_sync_link_outbox_delivered_total')).toBe(5);
      expect(sample(text, 'pg_sync_link_outbox_pending')).toBe(0);
      expect(sample(text, 'pg_sync_link_outbox_lag_seconds')).toBe(0);
      expect(sample(text, 'pg_sync_link_outbox_failures_total')).toBe(0);
      expect(sample(text, 'pg_sync_link_outbox_failed_rows')).toBe(0);
      expect(sample(text, 'pg_sync_link_outbox_drain_duration_seconds_count', '')).toBeGreaterThan(0);
      expect((await fetch(url!.replace('/metrics', '/other'))).status).toBe(404);

      // Legacy unreachable: deliveries fail, changes wait, and the metrics say so.
      const { rows } = await app.query(
        `SELECT option_value FROM pg_options_to_table((SELECT srvoptions FROM pg_foreign_server WHERE srvname = 'legacy')) WHERE option_name = 'port'`,
      );
      await app.query(`ALTER SERVER legacy OPTIONS (SET port '1')`);
      await app.query(`INSERT INTO items VALUES (6, 'six'), (7, 'seven')`);
      let failing = '';
      await until(async () => {
        failing = await (await fetch(url!)).text();
        return (sample(failing, 'pg_sync_link_outbox_failures_total') ?? 0) >= 1;
      });
      expect(sample(failing, 'pg_sync_link_outbox_pending')).toBe(2);
      expect(sample(failing, 'pg_sync_link_outbox_lag_seconds')).toBeGreaterThanOrEqual(0);
      expect(sample(failing, 'pg_sync_link_outbox_delivered_total')).toBe(5);

      await app.query(`ALTER SERVER legacy OPTIONS (SET port '${rows[0].option_value}')`);
      await worker.idle();
      const healed = await (await fetch(url!)).text();
      expect(sample(healed, 'pg_sync_link_outbox_delivered_total')).toBe(7);
      expect(sample(healed, 'pg_sync_link_outbox_pending')).toBe(0);
    } finally {
      await worker.stop();
    }
    await expect(fetch((await worker.metricsUrl)!)).rejects.toThrow();
  });

  it("registers in the app's own registry, which two workers may share", async () => {
    const registry = new Registry();
    const options = { connection: appUrl, syncs: [sync()], pollIntervalMs: 3_600_000, metrics: { registry } };
    const worker = startOutboxWorker(options);
    try {
      expect(await worker.metricsUrl).toBeUndefined();
      await app.query(`INSERT INTO items VALUES (1, 'one'), (2, 'two'), (3, 'three')`);
      await worker.idle();
      const second = startOutboxWorker(options);
      await second.metricsUrl;
      await second.stop();
      const text = await registry.metrics();
      expect(sample(text, 'pg_sync_link_outbox_delivered_total')).toBe(3);
      expect(sample(text, 'pg_sync_link_outbox_pending')).toBe(0);
    } finally {
      await worker.stop();
    }
  });

  it('stops when its port is taken: `stopped` rejects with the reason, stop() still resolves', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = taken.address() as AddressInfo;
      const worker = startOutboxWorker({
        connection: appUrl,
        syncs: [sync()],
        pollIntervalMs: 3_600_000,
        metrics: { port, host: '127.0.0.1' },
      });
      await expect(worker.stopped).rejects.toThrow(
        new RegExp(
          `cannot serve metrics on 127\\.0\\.0\\.1 port ${port} \\(.*EADDRINUSE.*\\): choose another metrics\\.port`,
        ),
      );
      await expect(worker.stopped).rejects.toMatchObject({ code: 'INVALID_OPTION', path: 'metrics.port' });
      await expect(worker.stop()).resolves.toBeUndefined();
      expect(await worker.metricsUrl).toBeUndefined();
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it('refuses metrics options it cannot use, before starting', () => {
    const base = { connection: appUrl, syncs: [sync()] };
    expect(() => startOutboxWorker({ ...base, metrics: {} })).toThrow(
      /needs a port to serve \/metrics on, or a prom-client registry/,
    );
    expect(() => startOutboxWorker({ ...base, metrics: { port: 70000 } })).toThrow(
      /port must be a whole number from 0 to 65535/,
    );
    expect(() => startOutboxWorker({ ...base, metrics: { registry: {} as never } })).toThrow(
      /must be a prom-client Registry/,
    );
  });
});
