import { startServer } from '../examples/support/embedded-server.mjs';

/**
 * The parts of a bench script named on its command line: `runs(part)` says whether to run one
 * (all of them when none is named). A name it does not know stops the script (exit 2), listing
 * the known ones.
 * @param {readonly string[]} known
 * @param {string} [what] how the message calls a part
 */
export function pickedParts(known, what = 'part') {
  const picked = process.argv.slice(2);
  const unknown = picked.filter((part) => !known.includes(part));
  if (unknown.length > 0) {
    console.error(`unknown ${what}: ${unknown.join(', ')}; one of ${known.join(', ')}`);
    process.exit(2);
  }
  return { runs: (/** @type {string} */ part) => picked.length === 0 || picked.includes(part) };
}

/**
 * "legacy" and "app" as `npm run bench` starts them: durable (fsync on), and wal_level=logical
 * for the replication benchmark; every other figure is a ratio within the same servers, so the
 * setting weighs on both sides of it.
 */
export function startBenchPair() {
  const settings = ['wal_level=logical'];
  return Promise.all([
    startServer('legacy', { durable: true, settings }),
    startServer('app', { durable: true, settings }),
  ]);
}
