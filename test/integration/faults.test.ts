import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { buildMigration, startOutboxWorker, syncEndpoint, syncTrigger, type SyncDelivery } from '../../src/index.js';
import { applyInTransaction } from '../harness/apply.js';
import { linkTo } from '../harness/links.js';
import type { ServerPair } from '../harness/pair.js';
import { connect, connectionString } from '../harness/server.js';
import { useServers } from '../harness/suite.js';

// The other side fails while writes go on. Outbox: nothing lost, nothing doubled.
// Write-through: each write lands on both sides or on neither, never on one.
const DDL = 'CREATE TABLE events (id bigint PRIMARY KEY, version integer NOT NULL, note text)';
const COLUMNS = ['id', 'version', 'note'];

let pair: ServerPair;
let legacy: pg.Client;
let app: pg.Client;
let names: { legacy: string; app: string };

const sync = (delivery: SyncDelivery) =>
  syncTrigger({ server: 'legacy', table: 'events', key: ['id'], columns: COLUMNS, delivery });

async function install(delivery: SyncDelivery): Promise<void> {
  await applyInTransaction(
    legacy,
    buildMigration('endpoint', syncEndpoint({ table: 'events', key: ['id'], columns: COLUMNS })),
    'up',
  );
  await applyInTransaction(
    app,
    buildMigration('sync', linkTo(pair.legacy, names.legacy, 'FAULTS_LEGACY_PASSWORD'), sync(delivery)),
    'up',
  );
}

async function rows(client: pg.Client): Promise<string[]> {
  const result = await client.query<{ row: string }>(
    'SELECT format($$%s|%s|%s$$, id, version, note) AS row FROM events ORDER BY id',
  );
  return result.rows.map((row) => row.row);
}

/** Reconnects the test's client to legacy after a restart ended its connection. */
async function reconnectLegacy(): Promise<pg.Client> {
  await legacy.end().catch(() => undefined);
  legacy = await connect(pair.legacy, names.legacy);
  return legacy;
}

// Its own servers: the tests stop and restart legacy.
useServers(
  'faults',
  async (servers) => {
    ({ pair, legacy, app, names } = servers);
    await legacy.query(DDL);
    await app.query(DDL);
  },
  { private: true },
);

describe('faults', () => {
  it('outbox: 10k writes while the other side is stopped and restarted three times; 0 lost, 0 duplicated', async () => {
    await install('outbox');
    let failures = 0;
    const worker = startOutboxWorker({
      connection: connectionString(pair.app, names.app),
      syncs: [sync('outbox')],
      batchSize: 500,
      retry: { initialMs: 20, maxMs: 200 },
      onEvent: (event) => {
        if (event.type === 'failed') failures += 1;
      },
    });
    let outages = 0;
    try {
      for (let write = 1; write <= 10_000; write += 1) {
        // Mostly inserts; every 7th write updates an earlier row, every 13th deletes one.
        if (write % 13 === 0) await app.query('DELETE FROM events WHERE id = $1', [write - 5]);
        else if (write % 7 === 0)
          await app.query('UPDATE events SET version = version + 1, note = $2 WHERE id = $1', [
            write - 3,
            `updated by ${write}`,
          ]);
        else await app.query('INSERT INTO events VALUES ($1, 1, $2)', [write, `written ${write}`]);
        // Down for 800 writes after write 2500, 5000 and 7500, while the worker keeps trying.
        if (write % 2500 === 0 && write < 10_000) {
          await pair.legacy.stop();
          outages += 1;
        }
        if (write % 2500 === 800 && write > 2500) await pair.legacy.start();
      }
      expect(outages).toBe(3);
      // The worker did meet the outages (its retries are what this test is about).
      expect(failures).toBeGreaterThan(0);
      await worker.idle();
    } finally {
      await worker.stop();
    }
    const expected = await rows(app);
    expect(expected.length).toBeGreaterThan(7000);
    expect(await rows(await reconnectLegacy())).toEqual(expected);
    const { rows: lag } = await app.query('SELECT pending, consecutive_failures FROM events__outbox_legacy_lag');
    expect(lag[0]).toEqual({ pending: '0', consecutive_failures: 0 });
  }, 240_000);

  it('write-through: a write while the other side is down fails with a clear error and is kept nowhere', async () => {
    await install('write-through');
    await pair.legacy.stop();
    try {
      const error = await app.query(`INSERT INTO events VALUES (1, 1, 'lost?')`).then(
        () => undefined,
        (caught: unknown) => caught as Error,
      );
      expect(error).toBeInstanceOf(Error);
      expect(error?.message).toMatch(
        /pg-sync-link: INSERT not synced from public\.events to public\.events on server legacy: could not connect to server "legacy"/,
      );
    } finally {
      await pair.legacy.start();
    }
    expect(await rows(app)).toEqual([]);
    expect(await rows(await reconnectLegacy())).toEqual([]);
  });

  it('write-through: the other side killed between the remote write and the local COMMIT keeps the write nowhere', async () => {
    await install('write-through');
    await app.query(`INSERT INTO events VALUES (1, 1, 'before')`);
    // Its own session as the other side's backend: terminated from there, like a crash of it.
    await app.query('BEGIN');
    await app.query(`INSERT INTO events VALUES (2, 1, 'in flight')`);
    await app.query(`UPDATE events SET version = 2 WHERE id = 1`);
    const { rows: killed } = await legacy.query<{ done: boolean }>(
      `SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`,
    );
    expect(killed.map((row) => row.done)).toEqual([true]);
    const error = await app.query('COMMIT').then(
      () => undefined,
      (caught: unknown) => caught as Error,
    );
    expect(error).toBeInstanceOf(Error);
    expect(error?.message).toMatch(/server closed the connection|connection|terminat/i);
    await app.query('ROLLBACK').catch(() => undefined);
    expect(await rows(app)).toEqual(['1|1|before']);
    expect(await rows(legacy)).toEqual(['1|1|before']);

    // The whole server stopped in the same place.
    await app.query('BEGIN');
    await app.query(`INSERT INTO events VALUES (3, 1, 'in flight')`);
    await pair.legacy.stop();
    try {
      const stopped = await app.query('COMMIT').catch((caught: unknown) => caught as Error);
      expect(stopped).toBeInstanceOf(Error);
      await app.query('ROLLBACK').catch(() => undefined);
    } finally {
      await pair.legacy.start();
    }
    expect(await rows(app)).toEqual(['1|1|before']);
    expect(await rows(await reconnectLegacy())).toEqual(['1|1|before']);
  });

  it('write-through: writes racing restarts of the other side each land on both sides or on neither', async () => {
    await install('write-through');
    const landed: number[] = [];
    const writer = await connect(pair.app, names.app);
    let stop = false;
    const writing = (async () => {
      for (let id = 1; !stop; id += 1) {
        try {
          await writer.query('INSERT INTO events VALUES ($1, 1, $2)', [id, `write ${id}`]);
          landed.push(id);
        } catch {
          // Refused while the other side is away: must be on neither side (checked below).
        }
      }
    })();
    // Each outage comes after a few more writes have landed, however busy the machine is.
    const afterMoreLanded = async (count: number) => {
      const target = landed.length + count;
      const deadline = Date.now() + 30_000;
      while (landed.length < target && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    };
    try {
      for (let outage = 0; outage < 3; outage += 1) {
        await afterMoreLanded(4);
        await pair.legacy.stop();
        await new Promise((resolve) => setTimeout(resolve, 200));
        await pair.legacy.start();
      }
      await afterMoreLanded(4);
    } finally {
      stop = true;
      await writing;
      await writer.end();
    }
    const expected = landed.map((id) => `${id}|1|write ${id}`).sort();
    expect(landed.length).toBeGreaterThan(10);
    expect((await rows(app)).sort()).toEqual(expected);
    expect((await rows(await reconnectLegacy())).sort()).toEqual(expected);
  }, 120_000);
});
