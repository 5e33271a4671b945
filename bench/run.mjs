// `npm run bench`: starts two embedded PostgreSQL servers and runs every benchmark. Each prints
// what it measured; the last line is one JSON object of ratios to same-run baselines.
import { startServer } from '../examples/support/embedded-server.mjs';
import { benchFdwRead } from './fdw-read.mjs';
import { benchOutbox } from './outbox.mjs';
import { benchSharedIds } from './shared-ids.mjs';
import { benchSyncWrite } from './sync-write.mjs';

const say = (/** @type {string} */ line) => console.log(line);
const [legacy, app] = await Promise.all([startServer('legacy', { durable: true }), startServer('app', { durable: true })]);
try {
  const results = { ...(await benchSyncWrite({ legacy, app }, say)), ...(await benchSharedIds({ legacy, app }, say)), ...(await benchFdwRead({ legacy, app }, say)), ...(await benchOutbox({ legacy, app }, say)) };
  console.log(JSON.stringify(results));
} finally {
  await Promise.all([legacy.stop(), app.stop()]);
}
