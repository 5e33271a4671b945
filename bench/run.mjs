// `npm run bench`: starts two embedded PostgreSQL servers and runs every benchmark. Each prints
// what it measured; the last line is one JSON object of ratios to same-run baselines.
import { startServer } from '../examples/support/embedded-server.mjs';
import { benchDblink } from './dblink.mjs';
import { benchDependency } from './dependency.mjs';
import { benchFdwRead } from './fdw-read.mjs';
import { benchOutbox } from './outbox.mjs';
import { benchReplication } from './replication.mjs';
import { benchSharedIds } from './shared-ids.mjs';
import { benchSyncWrite } from './sync-write.mjs';
import { benchVerify } from './verify.mjs';

const say = (/** @type {string} */ line) => console.log(line);
// wal_level=logical for the replication benchmark; every other figure is a ratio within the
// same servers, so it weighs on both sides of it.
const settings = ['wal_level=logical'];
const [legacy, app] = await Promise.all([
  startServer('legacy', { durable: true, settings }),
  startServer('app', { durable: true, settings }),
]);
try {
  const pair = { legacy, app };
  const results = {
    ...(await benchSyncWrite(pair, say)),
    ...(await benchSharedIds(pair, say)),
    ...(await benchFdwRead(pair, say)),
    ...(await benchOutbox(pair, say)),
    ...(await benchDependency(pair, say)),
    ...(await benchReplication(pair, say)),
    ...(await benchVerify(pair, say)),
    ...(await benchDblink(pair, say)),
  };
  console.log(JSON.stringify(results));
} finally {
  await Promise.all([legacy.stop(), app.stop()]);
}
