// A deployable outbox worker: delivers app's recorded order changes to legacy, waking on NOTIFY,
// retrying while legacy is down, and stopping cleanly on SIGTERM (e.g. from a process manager).
//   APP_DATABASE_URL=postgres://... node examples/outbox-worker.mjs
import { startOutboxWorker } from 'pg-sync-link';
import { ordersToLegacy } from './outbox-sync.mjs';

const url = process.env.APP_DATABASE_URL;
if (!url) {
  console.error('Set APP_DATABASE_URL to the database that holds the outbox.');
  process.exit(2);
}
const worker = startOutboxWorker({
  connection: url,
  syncs: [ordersToLegacy],
  retry: { initialMs: 100, maxMs: 2_000 },
  handleSignals: true,
  onEvent: (event) => {
    if (event.type === 'delivered') console.log(`worker: delivered ${event.count} changes of ${event.sync}`);
    if (event.type === 'failed') console.log(`worker: ${event.error} (again in ${event.retryInMs} ms)`);
    if (event.type === 'set-aside')
      console.log(
        `worker: set aside ${event.keys} keys of ${event.sync} the other side keeps rejecting (see its _failed table)`,
      );
    if (event.type === 'disconnected') console.log(`worker: ${event.error} (reconnecting in ${event.retryInMs} ms)`);
    if (event.type === 'stopped') console.log('worker: stopped cleanly');
  },
});
await worker.stopped;
