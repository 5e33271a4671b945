// Logical replication: what publishing costs the writer (a bulk insert into a published table
// vs an unpublished one, same run), and how long the subscriber takes to have every row.
import { applySyncLink, env, publication, removeSyncLink, replicationSlot, subscription } from 'pg-sync-link';
import { round } from './measure.mjs';
import { productRows, productTable } from './products.mjs';

const ROWS = 100_000;

/**
 * Needs servers started with wal_level=logical.
 * @param {{ legacy: import('../examples/support/embedded-server.mjs').Server, app: import('../examples/support/embedded-server.mjs').Server }} pair
 * @param {(line: string) => void} say
 */
export async function benchReplication({ legacy, app }, say) {
  await legacy.client.query(productTable('unpublished'));
  await legacy.client.query(productTable('published'));
  await app.client.query(productTable('published'));
  process.env.BENCH_REPLICATION_PASSWORD = legacy.password;
  const publisher = [publication({ name: 'bench_pub', tables: ['published'] }), replicationSlot({ name: 'bench_sub' })];
  const subscriber = subscription({
    name: 'bench_sub',
    host: legacy.host,
    port: legacy.port,
    dbname: legacy.database,
    user: legacy.user,
    password: env('BENCH_REPLICATION_PASSWORD'),
    publications: ['bench_pub'],
  });
  await applySyncLink(legacy.client, publisher);
  await applySyncLink(app.client, subscriber);
  const count = async () => Number((await app.client.query('SELECT count(*) AS n FROM published')).rows[0].n);
  const time = async (/** @type {() => Promise<unknown>} */ work) => {
    const start = process.hrtime.bigint();
    await work();
    return Number(process.hrtime.bigint() - start) / 1e6;
  };
  const plain = [],
    published = [],
    applied = [];
  for (let round = 0; round < 3; round += 1) {
    plain.push(await time(() => legacy.client.query(productRows('unpublished', ROWS, round * ROWS + 1))));
    const start = process.hrtime.bigint();
    published.push(await time(() => legacy.client.query(productRows('published', ROWS, round * ROWS + 1))));
    while ((await count()) < (round + 1) * ROWS) await new Promise((resolve) => setTimeout(resolve, 5));
    applied.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  const median = (/** @type {number[]} */ times) => [...times].sort((a, b) => a - b)[1] ?? 0;
  say(
    `logical replication: bulk INSERT of ${ROWS} rows: unpublished ${median(plain).toFixed(0)} ms, published ${median(published).toFixed(0)} ms; every row on the subscriber after ${median(applied).toFixed(0)} ms`,
  );
  await removeSyncLink(app.client, subscriber);
  await removeSyncLink(legacy.client, publisher);
  await app.client.query('DROP TABLE published');
  await legacy.client.query('DROP TABLE published, unpublished');
  return {
    replication_write_ratio: round(median(published) / median(plain)),
    replication_apply_ratio: round(median(applied) / median(plain)),
  };
}
