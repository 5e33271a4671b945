import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import {
  buildMigration,
  changeFeed,
  diagnose,
  feedLag,
  listenToChanges,
  status,
  type ChangeListener,
} from '../../src/index.js';
import { applyInTransaction } from '../harness/apply.js';
import { catalogSnapshot } from '../harness/catalog.js';
import type { ServerPair } from '../harness/pair.js';
import { connectionString } from '../harness/server.js';
import { useServers } from '../harness/suite.js';

// Pruning the change log never drops what a named consumer has not received, unless forced,
// and then it says how many and for whom.
let pair: ServerPair;
let app: pg.Client;
let database: string;

useServers('prune', async (servers) => {
  ({ pair, app } = servers);
  database = servers.names.app;
  await app.query('CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL)');
});

const feed = () => changeFeed({ table: 'users', key: ['id'] });
const insert = (from: number, to: number) =>
  app.query(`INSERT INTO users SELECT g, 'u' || g FROM generate_series(${from}, ${to}) AS g`);

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('Timed out waiting for a condition.');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Runs the named consumer until it has received everything logged and checkpointed past it. */
async function consumeAll(seen: number[]): Promise<void> {
  const listener: ChangeListener = listenToChanges({
    connection: connectionString(pair.app, database),
    feed: feed(),
    consumer: 'crm',
    from: 'beginning',
    checkpointIntervalMs: 50,
    onChange: (change) => void seen.push(Number(change.key.id)),
  });
  try {
    await until(async () => (await feedLag(app, feed())).some((lag) => lag.consumer === 'crm' && lag.pending === 0));
  } finally {
    await listener.stop();
  }
}

async function withMessages<T>(
  work: () => Promise<T>,
): Promise<{ result: T; messages: Array<{ severity: string; message: string }> }> {
  const messages: Array<{ severity: string; message: string }> = [];
  const onNotice = (notice: { severity?: string; message?: string }) =>
    messages.push({ severity: notice.severity ?? '', message: notice.message ?? '' });
  app.on('notice', onNotice);
  try {
    return { result: await work(), messages };
  } finally {
    app.off('notice', onNotice);
  }
}

const prune = async (force?: boolean) =>
  Number(
    (
      await app.query(
        force === undefined
          ? `SELECT users__changes_prune('0 seconds') AS n`
          : `SELECT users__changes_prune('0 seconds', $1) AS n`,
        force === undefined ? [] : [force],
      )
    ).rows[0].n,
  );

describe('change feed pruning', () => {
  it('keeps what a stopped consumer has not received; it resumes and misses nothing', async () => {
    const before = await catalogSnapshot(app);
    await applyInTransaction(app, buildMigration('feed', feed()), 'up');
    const seen: number[] = [];
    await insert(1, 2);
    await consumeAll(seen);
    expect(seen).toEqual([1, 2]);

    // The consumer is stopped; three more changes are logged.
    await insert(3, 5);
    expect(await feedLag(app, feed())).toEqual([
      expect.objectContaining({ consumer: 'crm', pending: 3, oldestPendingSeconds: expect.any(Number) }),
    ]);
    const kept = await withMessages(() => prune());
    expect(kept.result).toBe(2);
    expect(kept.messages).toEqual([
      {
        severity: 'NOTICE',
        message: `pg-sync-link: kept 3 changes of the change feed of public.users that consumer 'crm' has not received`,
      },
    ]);
    expect(Number((await app.query('SELECT count(*) FROM users__changes')).rows[0].count)).toBe(3);

    // The doctor warns once they have waited long.
    expect(
      (await diagnose(connectionString(pair.app, database))).findings.filter(
        (finding) => finding.check === 'feed-consumer',
      ),
    ).toEqual([expect.objectContaining({ severity: 'ok', message: '3 changes waiting for it.' })]);
    await app.query(`UPDATE users__changes SET at = now() - interval '1 hour'`);
    const lagging = (await diagnose(connectionString(pair.app, database))).findings.filter(
      (finding) => finding.check === 'feed-consumer',
    );
    expect(lagging).toEqual([
      expect.objectContaining({
        severity: 'warning',
        subject: 'change feed consumer "crm" (public.users__changes_lag)',
        message: expect.stringMatching(/^3 changes wait for it, the oldest for 36\d\d s/),
        fix: expect.stringContaining(`DELETE FROM public.users__changes_cursors WHERE consumer = 'crm'`),
      }),
    ]);

    await consumeAll(seen);
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    expect(await withMessages(() => prune())).toEqual({ result: 3, messages: [] });

    // Forced: it prunes anyway, and says how many each consumer loses.
    await insert(6, 6);
    const forced = await withMessages(() => prune(true));
    expect(forced).toEqual({
      result: 1,
      messages: [
        {
          severity: 'WARNING',
          message: `pg-sync-link: pruning the change feed of public.users drops 1 changes that consumer 'crm' has not received`,
        },
      ],
    });

    await applyInTransaction(app, buildMigration('feed', feed()), 'down');
    expect(await catalogSnapshot(app)).toEqual(before);
  });

  it('lists the consumer furthest behind first, by number (10 before 9), in feedLag and status', async () => {
    await applyInTransaction(app, buildMigration('feed', feed()), 'up');
    await insert(1, 10);
    // 'ten' has received nothing, 'nine' the first change: 10 and 9 pending.
    await app.query(`INSERT INTO users__changes_cursors (consumer, xid, seq) VALUES ('ten', '0', 0)`);
    await app.query(
      `INSERT INTO users__changes_cursors (consumer, xid, seq) SELECT 'nine', xid, seq FROM users__changes ORDER BY seq LIMIT 1`,
    );
    const lag = await feedLag(app, feed());
    expect(lag.map((entry) => [entry.consumer, entry.pending])).toEqual([
      ['ten', 10],
      ['nine', 9],
    ]);
    const report = await status(app);
    expect(report.feeds[0]!.consumers.map((entry) => [entry.consumer, entry.pending])).toEqual([
      ['ten', 10],
      ['nine', 9],
    ]);
    await applyInTransaction(app, buildMigration('feed', feed()), 'down');
  });

  it('without named consumers, prunes by age alone', async () => {
    await applyInTransaction(app, buildMigration('feed', feed()), 'up');
    await insert(1, 3);
    expect(await withMessages(() => prune())).toEqual({ result: 3, messages: [] });
    expect(await feedLag(app, feed())).toEqual([]);
  });
});
