import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { buildMigration, changeFeed, diagnose, syncTrigger } from '../../src/index.js';
import { applyInTransaction } from '../harness/apply.js';
import { catalogSnapshot } from '../harness/catalog.js';
import { findingsOf, notOk } from '../harness/doctor-setup.js';
import { connectionString } from '../harness/server.js';
import { useServers } from '../harness/suite.js';

// The kinds with no link: the doctor sees them like any sync, and a feed's key must be unique.
let app: pg.Client;
let appUrl: string;

useServers('doclocal', async (servers) => {
  app = servers.app;
  appUrl = connectionString(servers.pair.app, servers.names.app);
  await app.query(
    'CREATE TABLE items (id bigint PRIMARY KEY, name text); CREATE TABLE copies (id bigint PRIMARY KEY, name text); CREATE TABLE loose (id bigint, name text)',
  );
});

const local = () => syncTrigger({ table: 'items', target: 'copies', key: ['id'], columns: ['id', 'name'] });
const feed = () => changeFeed({ table: 'items', key: ['id'], channel: 'items' });

describe('doctor: same-database syncs and change feeds', () => {
  it("reports each as ok, with the feed's named consumers", async () => {
    await applyInTransaction(app, buildMigration('kinds', local(), feed()), 'up');
    await app.query(`INSERT INTO items__changes_cursors (consumer, xid, seq) VALUES ('crm', '0', 0)`);
    const diagnosis = await diagnose(appUrl);
    expect(notOk(diagnosis)).toEqual([]);
    expect(findingsOf(diagnosis, 'same-database-sync')).toEqual([
      expect.objectContaining({
        subject: 'same-database sync of public.items (public.items__sync_to_public_copies)',
        message: expect.stringContaining('sync_to_public_copies_insert (enabled always)'),
      }),
    ]);
    expect(findingsOf(diagnosis, 'change-feed')).toEqual([
      expect.objectContaining({
        subject: 'change feed of public.items',
        message: expect.stringMatching(
          /change_feed \(enabled always\), change_feed_truncate \(enabled always\)\. Named consumers: "crm" \(last checkpoint /,
        ),
      }),
    ]);
  });

  it('a disabled same-database sync or feed trigger is an error with the statement that fixes it', async () => {
    await applyInTransaction(app, buildMigration('kinds', local(), feed()), 'up');
    await app.query('ALTER TABLE items DISABLE TRIGGER sync_to_public_copies_insert');
    await app.query('ALTER TABLE items ENABLE TRIGGER change_feed');
    const diagnosis = await diagnose(appUrl);
    expect(notOk(diagnosis)).toEqual([
      {
        check: 'change-feed',
        severity: 'warning',
        subject: 'change feed of public.items',
        message: expect.stringMatching(/^change_feed skip writes made with session_replication_role = replica/),
        fix: 'ALTER TABLE public.items ENABLE ALWAYS TRIGGER change_feed (then copy the rows changed meanwhile).',
      },
      {
        check: 'same-database-sync',
        severity: 'error',
        subject: 'same-database sync of public.items (public.items__sync_to_public_copies)',
        message: expect.stringMatching(
          /^sync_to_public_copies_insert will not fire: changes to public\.items are not copied to the sync's target table/,
        ),
        fix: 'ALTER TABLE public.items ENABLE ALWAYS TRIGGER sync_to_public_copies_insert (then copy the rows changed meanwhile).',
      },
    ]);
    expect(diagnosis.exitCode).toBe(1);
    expect(diagnosis.worst).toBe('error');
  });
});

describe('changeFeed key', () => {
  it('refuses a key with no unique index, before anything is made', async () => {
    const before = await catalogSnapshot(app);
    const refused = await applyInTransaction(
      app,
      buildMigration('feed', changeFeed({ table: 'loose', key: ['id'] })),
      'up',
    ).catch((error: unknown) => error as Error);
    expect(refused).toBeInstanceOf(Error);
    expect((refused as Error).message).toContain(
      'pg-sync-link: table public.loose has no primary key or unique index on exactly the change feed key (id)',
    );
    expect((refused as Error).message).toContain('add a primary key or unique index on the key columns');
    expect(await catalogSnapshot(app)).toEqual(before);
  });
});
