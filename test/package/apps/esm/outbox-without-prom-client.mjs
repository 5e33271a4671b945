// An app without prom-client (an optional peer): the outbox worker and the change listener run
// without `metrics`, and asking for metrics stops them with our error saying what to install.
import pg from 'pg';
import {
  applySyncLink,
  changeFeed,
  env,
  fdwLink,
  listenToChanges,
  removeSyncLink,
  startOutboxWorker,
  syncEndpoint,
  syncLinkErrorOf,
  syncTrigger,
} from 'pg-sync-link';

const APP = process.env.DATABASE_URL;
const LEGACY = process.env.LEGACY_URL;

/** Rejects after `ms` with `what`, so a worker or listener that never settles fails the check. */
async function within(promise, ms, what) {
  let timer;
  const late = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms)));
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

// The check is only meaningful if the app really lacks prom-client.
let promClient = 'installed';
await import('prom-client').catch((error) => (promClient = error.code));

const columns = ['id', 'status'];
const table = 'orders_without_metrics';
const link = fdwLink({
  name: 'legacy',
  host: env('LEGACY_HOST'),
  port: env('LEGACY_PORT'),
  dbname: env('LEGACY_DB'),
  userMappings: [{ user: env('LEGACY_USER'), password: env('LEGACY_PASSWORD') }],
});
const sync = syncTrigger({ server: 'legacy', table, key: ['id'], columns, delivery: 'outbox' });
const feed = changeFeed({ table, key: ['id'], columns });
const onLegacy = [syncEndpoint({ table, key: ['id'], columns })];
const onApp = [link, sync, feed];

const app = new pg.Client({ connectionString: APP });
const legacy = new pg.Client({ connectionString: LEGACY });
await app.connect();
await legacy.connect();
for (const client of [app, legacy]) await client.query(`CREATE TABLE ${table} (id bigint PRIMARY KEY, status text)`);
await applySyncLink(LEGACY, onLegacy);
await applySyncLink(APP, onApp);

// Without `metrics`: the worker delivers and the listener hears the write.
const events = [];
const changes = [];
const worker = startOutboxWorker({ connection: APP, syncs: [sync], onEvent: (event) => events.push(event.type) });
const listener = listenToChanges({ connection: APP, feed, onChange: (change) => void changes.push(change.op) });
while (listener.position() === undefined) await new Promise((resolve) => setTimeout(resolve, 20));
await app.query(`INSERT INTO ${table} VALUES (1, 'new')`);
await within(worker.idle(), 20_000, 'worker.idle()');
while (changes.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
const { rows } = await legacy.query(`SELECT status FROM ${table}`);
await worker.stop();
await listener.stop();
await within(Promise.all([worker.stopped, listener.stopped]), 5_000, 'stopped');

// With `metrics`: each stops on its own, and `stopped` rejects with our typed error.
const refusal = async (started) => {
  const error = await within(
    started.stopped.then(
      () => new Error('stopped without an error'),
      (reason) => reason,
    ),
    20_000,
    'stopped after asking for metrics',
  );
  // Already stopped: stop() settles as `stopped` did.
  await started.stop().catch(() => undefined);
  const ours = syncLinkErrorOf(error);
  return { name: error.constructor.name, code: ours?.code, peer: ours?.peer, message: error.message };
};
const workerWithMetrics = await refusal(startOutboxWorker({ connection: APP, syncs: [sync], metrics: { port: 0 } }));
const listenerWithMetrics = await refusal(
  listenToChanges({ connection: APP, feed, onChange: () => {}, metrics: { port: 0 } }),
);

await removeSyncLink(APP, onApp);
await removeSyncLink(LEGACY, onLegacy);
for (const client of [app, legacy]) {
  await client.query(`DROP TABLE ${table}`);
  await client.end();
}
console.log(
  `NO_PROM_CLIENT ${JSON.stringify({ promClient, delivered: rows, events: [...new Set(events)], changes, workerWithMetrics, listenerWithMetrics })}`,
);
