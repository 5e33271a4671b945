// Operating an outbox sync: the status screen of the app database shows the changes waiting,
// then the outbox worker delivers them while serving Prometheus metrics on a port of its own.
// Needs the optional peer prom-client (npm install prom-client).
import {
  applySyncLink,
  env,
  fdwLink,
  formatStatus,
  removeSyncLink,
  startOutboxWorker,
  status,
  syncEndpoint,
} from 'pg-sync-link';
import { ORDER_COLUMNS, ordersToLegacy } from './outbox-sync.mjs';
import { startServer } from './support/embedded-server.mjs';

const [legacy, app] = await Promise.all([startServer('legacy'), startServer('app')]);
const ddl = 'CREATE TABLE orders (id bigint PRIMARY KEY, customer text NOT NULL, total_cents integer NOT NULL)';
/** @type {import('pg-sync-link').OutboxWorker | undefined} */
let worker;
try {
  await legacy.client.query(ddl);
  await app.client.query(ddl);
  process.env.LEGACY_DB_PASSWORD = legacy.password;
  const link = fdwLink({
    name: 'legacy',
    host: legacy.host,
    port: legacy.port,
    dbname: legacy.database,
    userMappings: [{ user: legacy.user, password: env('LEGACY_DB_PASSWORD') }],
  });
  const endpoint = syncEndpoint({ table: 'orders', key: ['id'], columns: ORDER_COLUMNS });
  await applySyncLink(legacy.client, endpoint);
  await applySyncLink(app.client, [link, ordersToLegacy]);
  await app.client.query(`INSERT INTO orders VALUES (1, 'ada', 1300), (2, 'grace', 990), (3, 'alan', 450)`);

  // The screen `npx pg-sync-link status` prints, less what varies from run to run: the heading
  // (time read, server version), legacy's port, the age of the oldest change.
  const screen = formatStatus(await status(app.client), 'app')
    .split('\n')
    .slice(2);
  const stable = screen.map((line) =>
    line.replace(/:\d+$/, ':<port>').replace(/\b\d+ (s|min|h)(?= {2})/, (age) => 'age'.padEnd(age.length)),
  );
  console.log(stable.join('\n'));

  // port 0: the worker picks a free port; metricsUrl says which.
  worker = startOutboxWorker({ connection: app.url, syncs: [ordersToLegacy], metrics: { port: 0, host: '127.0.0.1' } });
  const url = await worker.metricsUrl;
  if (!url) throw new Error('no metrics: is prom-client installed? (npm install prom-client)');
  // The pending gauge is read after each pass: wait for the pass that delivered all three.
  const lines = await until(async () => {
    const text = await (await fetch(url)).text();
    const found = text.split('\n').filter((line) => /^pg_sync_link_outbox_(pending|delivered_total)\{/.test(line));
    return /pending\{.*\} 0$/m.test(text) && /delivered_total\{.*\} 3$/m.test(text) ? found : undefined;
  });
  console.log(`metrics after the drain:\n${lines.join('\n')}`);
  const { rows } = await legacy.client.query('SELECT id, customer FROM orders ORDER BY id');
  console.log(`legacy.orders: ${rows.map((row) => `${row.id} ${row.customer}`).join('; ')}`);

  await worker.stop();
  worker = undefined;
  console.log(
    `after stop, /metrics: ${await fetch(url).then(
      () => 'still served',
      () => 'closed',
    )}`,
  );
  await removeSyncLink(app.client, [link, ordersToLegacy]);
  await removeSyncLink(legacy.client, endpoint);
  console.log('removed both sides');
} finally {
  await worker?.stop().catch(() => {});
  await Promise.all([legacy.stop(), app.stop()]);
}

/**
 * @template T
 * @param {() => Promise<T | undefined>} read
 * @returns {Promise<T>}
 */
async function until(read) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
