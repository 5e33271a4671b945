// Outbox delivery: app keeps taking orders while legacy is down; a worker process delivers them
// when legacy is back, and stops cleanly on SIGTERM.
import { spawn } from 'node:child_process';
import pg from 'pg';
import { applySyncLink, env, fdwLink, outboxLag, removeSyncLink, syncEndpoint } from 'pg-sync-link';
import { ORDER_COLUMNS, ordersToLegacy } from './outbox-sync.mjs';
import { startServer } from './support/embedded-server.mjs';

const [legacy, app] = await Promise.all([startServer('legacy'), startServer('app')]);
const ddl = 'CREATE TABLE orders (id bigint PRIMARY KEY, customer text NOT NULL, total_cents integer NOT NULL)';
/** @type {import("node:child_process").ChildProcess | undefined} */
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

  // Legacy goes away; app's writes do not notice.
  await legacy.client.end();
  await legacy.halt();
  await app.client.query(`INSERT INTO orders VALUES (1, 'ada', 1300), (2, 'grace', 990), (3, 'alan', 450)`);
  await app.client.query('UPDATE orders SET total_cents = 1250 WHERE id = 1');
  console.log(`legacy is down; app took the orders. pending: ${(await outboxLag(app.client, ordersToLegacy)).pending}`);

  const child = spawn(process.execPath, ['examples/outbox-worker.mjs'], {
    env: { ...process.env, APP_DATABASE_URL: app.url },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  worker = child;
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  await until(async () => (await outboxLag(app.client, ordersToLegacy)).consecutiveFailures > 0);
  console.log(`the worker cannot deliver yet: ${(await outboxLag(app.client, ordersToLegacy)).lastError}`);

  await legacy.start();
  await until(async () => (await outboxLag(app.client, ordersToLegacy)).pending === 0);
  // The example's first connection to legacy ended with the server: a new one.
  const legacyClient = new pg.Client({ connectionString: legacy.url });
  await legacyClient.connect();
  const { rows } = await legacyClient.query('SELECT id, customer, total_cents FROM orders ORDER BY id');
  console.log(
    `legacy is back; legacy.orders: ${rows.map((row) => `${row.id} ${row.customer} ${row.total_cents}`).join('; ')}`,
  );

  child.kill('SIGTERM');
  console.log(`worker exit code after SIGTERM: ${await exited}`);
  console.log(
    output
      .trim()
      .split('\n')
      .filter((line) => !line.includes('(again in'))
      .join('\n'),
  );
  worker = undefined;

  await removeSyncLink(app.client, [link, ordersToLegacy]);
  await removeSyncLink(legacyClient, endpoint);
  await legacyClient.end();
  console.log('removed both sides');
} finally {
  worker?.kill('SIGKILL');
  await Promise.all([legacy.stop(), app.stop()]);
}

/** @param {() => Promise<boolean>} condition */
async function until(condition) {
  const deadline = Date.now() + 30_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
