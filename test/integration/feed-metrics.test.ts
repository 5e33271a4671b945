import type pg from 'pg';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { buildMigration, changeFeed, listenToChanges } from '../../src/index.js';
import { applyInTransaction } from '../harness/apply.js';
import { connectionString } from '../harness/server.js';
import { useServers } from '../harness/suite.js';

// A change listener's Prometheus metrics, scraped in the text format from a real listener.
let app: pg.Client;
let appUrl: string;
const feed = () => changeFeed({ table: 'users', key: ['id'] });
const LABELS = '{feed="public.users",consumer="crm"}';

useServers('feedmetrics', async (servers) => {
  app = servers.app;
  appUrl = connectionString(servers.pair.app, servers.names.app);
  await app.query('CREATE TABLE users (id bigint PRIMARY KEY, email text)');
  await applyInTransaction(app, buildMigration('feed', feed()), 'up');
});

function sample(text: string, name: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name}${LABELS} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

async function until(condition: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('Timed out waiting for a condition.');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('change listener metrics', () => {
  it('serves changes received, lag and the last checkpoint on its port, closed when it stops', async () => {
    const listener = listenToChanges({
      connection: appUrl,
      feed: feed(),
      consumer: 'crm',
      from: 'beginning',
      checkpointIntervalMs: 50,
      onChange: () => undefined,
      metrics: { port: 0, host: '127.0.0.1' },
    });
    const url = await listener.metricsUrl;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    let text = '';
    try {
      await app.query(`INSERT INTO users SELECT g, 'u' || g FROM generate_series(1, 3) AS g`);
      await until(async () => {
        text = await (await fetch(url!)).text();
        // Changes read while catching up count before that checkpoint ends: wait for both.
        return (
          sample(text, 'pg_sync_link_feed_received_total') === 3 &&
          sample(text, 'pg_sync_link_feed_checkpoint_timestamp_seconds') !== undefined
        );
      });
      expect(text).toContain('# TYPE pg_sync_link_feed_lag_seconds gauge');
      expect(sample(text, 'pg_sync_link_feed_lag_seconds')).toBeGreaterThanOrEqual(0);
      expect(sample(text, 'pg_sync_link_feed_checkpoint_timestamp_seconds')).toBeGreaterThan(1_700_000_000);
    } finally {
      await listener.stop();
    }
    await expect(fetch(url!)).rejects.toThrow();
  });

  it("registers in the app's registry", async () => {
    const registry = new Registry();
    const listener = listenToChanges({
      connection: appUrl,
      feed: feed(),
      consumer: 'crm',
      from: 'beginning',
      checkpointIntervalMs: 50,
      onChange: () => undefined,
      metrics: { registry },
    });
    try {
      expect(await listener.metricsUrl).toBeUndefined();
      await app.query(`INSERT INTO users VALUES (10, 'ten')`);
      await until(async () => sample(await registry.metrics(), 'pg_sync_link_feed_received_total') === 1);
    } finally {
      await listener.stop();
    }
    expect(() => listenToChanges({ connection: appUrl, feed: feed(), onChange: () => undefined, metrics: {} })).toThrow(
      /needs a port to serve \/metrics on, or a prom-client registry/,
    );
  });
});
