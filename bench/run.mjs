// `npm run bench`: starts two embedded PostgreSQL servers and runs every benchmark family. Each
// prints what it measured; the last line is one JSON object of ratios to same-run baselines.
// `node bench/run.mjs sync-single sync-write` runs only the families named.
import { pickedParts, startBenchPair } from './bench-setup.mjs';
import { benchDblink } from './dblink.mjs';
import { benchDependency } from './dependency.mjs';
import { benchFdwRead } from './fdw-read.mjs';
import { benchFilteredWrite } from './filtered-write.mjs';
import { benchOutbox } from './outbox.mjs';
import { benchOutboxTwoWay } from './outbox-two-way.mjs';
import { benchReplication } from './replication.mjs';
import { benchSharedIds } from './shared-ids.mjs';
import { benchSyncScaling } from './sync-scaling.mjs';
import { benchSyncSingle } from './sync-single.mjs';
import { benchSyncWrite } from './sync-write.mjs';
import { benchVerify } from './verify.mjs';

/**
 * Every family, in the order they run: a name (to pick it on the command line) and a function
 * that gets both servers and returns its JSON keys. Each leaves both databases as it found them.
 * @type {[string, (pair: import('./synced-table.mjs').Pair, say: (line: string) => void) => Promise<Record<string, unknown>>][]}
 */
const FAMILIES = [
  ['sync-write', benchSyncWrite],
  ['sync-single', benchSyncSingle],
  ['sync-scaling', benchSyncScaling],
  ['filtered-write', benchFilteredWrite],
  ['shared-ids', benchSharedIds],
  ['fdw-read', benchFdwRead],
  ['outbox', benchOutbox],
  ['outbox-two-way', benchOutboxTwoWay],
  ['dependency', benchDependency],
  ['replication', benchReplication],
  ['verify', benchVerify],
  ['dblink', benchDblink],
];

const { runs } = pickedParts(
  FAMILIES.map(([name]) => name),
  'benchmark family',
);

const say = (/** @type {string} */ line) => console.log(line);
const [legacy, app] = await startBenchPair();
try {
  const pair = { legacy, app };
  /** @type {Record<string, unknown>} */
  const results = {};
  for (const [name, bench] of FAMILIES) {
    if (runs(name)) Object.assign(results, await bench(pair, say));
  }
  console.log(JSON.stringify(results));
} finally {
  await Promise.all([legacy.stop(), app.stop()]);
}
