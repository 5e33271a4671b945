import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import {
  buildMigration,
  diagnose,
  drainOutbox,
  sqlExpression,
  syncEndpoint,
  syncTrigger,
  verifyTables,
  backfillTables,
  type SyncTriggerOptions,
} from '../../src/index.js';
import { applyInTransaction } from '../harness/apply.js';
import { catalogSnapshot } from '../harness/catalog.js';
import { linkTo } from '../harness/links.js';
import { connectionString } from '../harness/server.js';
import type { ServerPair } from '../harness/pair.js';
import { useServers } from '../harness/suite.js';

// The normalised rewrite: the new database keeps hospital_id in timesheet_options, the old wide
// table gets it through a lookup. A change to an option must reach the old rows that read it.
const OLD_COLUMNS = ['id', 'worker_id', 'status', 'hospital_id', 'is_approved'];
const HOSPITAL = sqlExpression(
  '(SELECT o.hospital_id FROM public.timesheet_options AS o WHERE o.id = src.timesheet_options_id)',
);

let pair: ServerPair;
let legacy: pg.Client;
let app: pg.Client;
let names: { legacy: string; app: string };

useServers('deps', async (servers) => {
  ({ pair, legacy, app, names } = servers);
  await app.query(`CREATE TABLE timesheet_options (id int PRIMARY KEY, hospital_id int);
    CREATE TABLE timesheet (id int PRIMARY KEY, worker_id int, status text, timesheet_options_id int)`);
  await legacy.query(`CREATE TABLE timesheet (id int PRIMARY KEY, worker_id int, status text, hospital_id int, is_approved boolean);
    -- Which rows the sync wrote, to prove only the rows that read a changed option are sent.
    CREATE TABLE written (id int);
    CREATE FUNCTION note_write() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO public.written VALUES (NEW.id); RETURN NULL; END $$;
    CREATE TRIGGER note_write AFTER INSERT OR UPDATE ON timesheet FOR EACH ROW EXECUTE FUNCTION note_write()`);
});

type Variant = Pick<SyncTriggerOptions, 'timing' | 'delivery'>;
const VARIANTS: Record<string, Variant> = {
  'immediate write-through': {},
  'commit write-through': { timing: 'commit' },
  outbox: { delivery: 'outbox' },
};

const sync = (variant: Variant, onDelete: 'resend' | 'restrict' = 'resend') =>
  syncTrigger({
    server: 'legacy',
    table: 'timesheet',
    key: ['id'],
    columns: [
      'id',
      'worker_id',
      'status',
      { remote: 'hospital_id', expression: HOSPITAL },
      { remote: 'is_approved', expression: sqlExpression(`src.status = 'approved'`) },
    ],
    dependsOn: [{ table: 'timesheet_options', rows: sqlExpression('src.timesheet_options_id = dep.id'), onDelete }],
    ...variant,
  });
const endpoint = () =>
  buildMigration('endpoint', syncEndpoint({ table: 'timesheet', key: ['id'], columns: OLD_COLUMNS }));
const sender = (variant: Variant, onDelete: 'resend' | 'restrict' = 'resend') =>
  buildMigration('sender', linkTo(pair.legacy, names.legacy, 'DEPS_LEGACY_PASSWORD'), sync(variant, onDelete));

/** What the old table should hold: the new rows through the same lookup. */
async function expected(): Promise<unknown[]> {
  const { rows } =
    await app.query(`SELECT t.id, t.worker_id, t.status, o.hospital_id, t.status = 'approved' AS is_approved
    FROM timesheet t LEFT JOIN timesheet_options o ON o.id = t.timesheet_options_id ORDER BY t.id`);
  return rows;
}
async function onLegacy(): Promise<unknown[]> {
  return (await legacy.query(`SELECT ${OLD_COLUMNS.join(', ')} FROM timesheet ORDER BY id`)).rows;
}
/** Ids the sync wrote since the last call (drained first for an outbox). */
async function written(variant: Variant): Promise<number[]> {
  if (variant.delivery === 'outbox') await drainOutbox(app, sync(variant));
  const { rows } = await legacy.query<{ id: number }>('DELETE FROM written RETURNING id');
  return rows.map((row) => row.id).sort((a, b) => a - b);
}

async function seed(variant: Variant): Promise<void> {
  await app.query('INSERT INTO timesheet_options VALUES (1, 10), (2, 20), (3, 30)');
  await app.query(`INSERT INTO timesheet
    SELECT g, 100 + g, CASE WHEN g % 2 = 0 THEN 'approved' ELSE 'draft' END, 1 + g % 3 FROM generate_series(1, 9) AS g`);
  expect(await written(variant)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
}

for (const [name, variant] of Object.entries(VARIANTS)) {
  describe(`a lookup that follows its table (${name})`, () => {
    it('an option that changes, appears, moves or goes sends exactly the rows that read it', async () => {
      await applyInTransaction(legacy, endpoint(), 'up');
      await applyInTransaction(app, sender(variant), 'up');
      await seed(variant);
      expect(await onLegacy()).toEqual(await expected());

      // Option 2 is read by rows 1, 4 and 7.
      await app.query('UPDATE timesheet_options SET hospital_id = 21 WHERE id = 2');
      expect(await written(variant)).toEqual([1, 4, 7]);
      expect(await onLegacy()).toEqual(await expected());

      // A row that points at an option not there yet reads NULL, then the option's value.
      await app.query(`INSERT INTO timesheet VALUES (10, 110, 'approved', 4)`);
      expect(await written(variant)).toEqual([10]);
      await app.query('INSERT INTO timesheet_options VALUES (4, 40), (5, 50)');
      expect(await written(variant)).toEqual([10]);
      expect(await onLegacy()).toEqual(await expected());

      // An option whose id changes: rows that read the old id now read NULL; the new id's readers its value.
      await app.query(`INSERT INTO timesheet VALUES (11, 111, 'draft', 6)`);
      await written(variant);
      await app.query('UPDATE timesheet_options SET id = 6 WHERE id = 5');
      await app.query('UPDATE timesheet_options SET id = 5 WHERE id = 4');
      expect(await written(variant)).toEqual([10, 11]);
      expect(await onLegacy()).toEqual(await expected());

      // A deleted option: its readers are sent again, reading NULL.
      await app.query('DELETE FROM timesheet_options WHERE id = 3');
      expect(await written(variant)).toEqual([2, 5, 8]);
      const afterDelete = await onLegacy();
      expect(afterDelete).toEqual(await expected());
      expect(afterDelete.filter((row) => (row as { hospital_id: unknown }).hospital_id === null)).toHaveLength(4);

      // A change no synced row reads sends nothing; a rolled-back one neither.
      await app.query('INSERT INTO timesheet_options VALUES (99, 990)');
      await app.query('BEGIN');
      await app.query('UPDATE timesheet_options SET hospital_id = 0');
      await app.query('ROLLBACK');
      expect(await written(variant)).toEqual([]);
      expect(await onLegacy()).toEqual(await expected());

      // TRUNCATE would leave every reader stale: refused, naming the sync.
      await expect(app.query('TRUNCATE timesheet_options')).rejects.toThrow(
        /TRUNCATE of public\.timesheet_options is refused: the sync of public\.timesheet to public\.timesheet on server legacy, which reads it,/,
      );

      // Verify and backfill read the same expressions: rows left stale (as before dependsOn) are found and repaired.
      await legacy.query('UPDATE timesheet SET hospital_id = 0 WHERE id IN (3, 6, 9)');
      const stale = await verifyTables({ local: app, remote: legacy, tables: sync(variant) });
      expect(stale.differing).toEqual([{ id: '3' }, { id: '6' }, { id: '9' }]);
      await backfillTables({ local: app, remote: legacy, tables: sync(variant) });
      expect(await onLegacy()).toEqual(await expected());
      expect((await verifyTables({ local: app, remote: legacy, tables: sync(variant) })).equal).toBe(true);

      const before = { legacy: await catalogSnapshot(legacy), app: await catalogSnapshot(app) };
      await applyInTransaction(app, sender(variant), 'down');
      await applyInTransaction(legacy, endpoint(), 'down');
      await applyInTransaction(legacy, endpoint(), 'up');
      await applyInTransaction(app, sender(variant), 'up');
      expect({ legacy: await catalogSnapshot(legacy), app: await catalogSnapshot(app) }).toEqual(before);
    });

    it("onDelete 'restrict' refuses to delete an option rows still read, naming the sync", async () => {
      const before = { legacy: await catalogSnapshot(legacy), app: await catalogSnapshot(app) };
      await applyInTransaction(legacy, endpoint(), 'up');
      await applyInTransaction(app, sender(variant, 'restrict'), 'up');
      await seed(variant);
      await expect(app.query('DELETE FROM timesheet_options WHERE id = 3')).rejects.toThrow(
        /DELETE from public\.timesheet_options refused: 3 rows of public\.timesheet read the deleted rows, and the sync of public\.timesheet to public\.timesheet on server legacy depends on public\.timesheet_options with onDelete 'restrict'/,
      );
      // Once no row reads it, it goes, and nothing is sent.
      await app.query('UPDATE timesheet SET timesheet_options_id = 1 WHERE timesheet_options_id = 3');
      await written(variant);
      await app.query('DELETE FROM timesheet_options WHERE id = 3');
      expect(await written(variant)).toEqual([]);
      expect(await onLegacy()).toEqual(await expected());
      await applyInTransaction(app, sender(variant, 'restrict'), 'down');
      await applyInTransaction(legacy, endpoint(), 'down');
      expect({ legacy: await catalogSnapshot(legacy), app: await catalogSnapshot(app) }).toEqual(before);
    });
  });
}

describe('a lookup that follows its table at commit', () => {
  it('rows are read at commit, after later statements of the transaction', async () => {
    const variant: Variant = { timing: 'commit' };
    await applyInTransaction(legacy, endpoint(), 'up');
    await applyInTransaction(app, sender(variant), 'up');
    await seed(variant);
    await app.query('BEGIN');
    await app.query('UPDATE timesheet_options SET hospital_id = 11 WHERE id = 1');
    expect(await written(variant)).toEqual([]);
    await app.query('UPDATE timesheet_options SET hospital_id = 12 WHERE id = 1');
    await app.query(`UPDATE timesheet SET status = 'approved' WHERE id = 3`);
    await app.query('COMMIT');
    expect(await written(variant)).toEqual([3, 6, 9]);
    expect(await onLegacy()).toEqual(await expected());
    // The doctor sees the sync as healthy: the dependency's triggers are not mistaken for a sender's.
    const findings = (await diagnose(connectionString(pair.app, names.app))).findings;
    expect(findings.filter((finding) => finding.severity === 'error')).toEqual([]);
    expect(findings).toContainEqual(
      expect.objectContaining({
        severity: 'ok',
        subject: 'dependency of timesheet__sync_to_legacy on public.timesheet_options',
      }),
    );
    // A disabled dependency trigger would leave the old rows stale without a word: an error.
    await app.query('ALTER TABLE timesheet_options DISABLE TRIGGER timesheet__sync_to_legacy_dep_update');
    const disabled = (await diagnose(connectionString(pair.app, names.app))).findings.filter(
      (finding) => finding.severity === 'error',
    );
    expect(disabled).toEqual([
      expect.objectContaining({
        check: 'sync-trigger',
        subject: 'dependency of timesheet__sync_to_legacy on public.timesheet_options',
        message: expect.stringContaining('timesheet__sync_to_legacy_dep_update will not fire'),
        fix: expect.stringContaining(
          'ALTER TABLE public.timesheet_options ENABLE ALWAYS TRIGGER timesheet__sync_to_legacy_dep_update',
        ),
      }),
    ]);
  });
});

describe('names that need quoting', () => {
  it('a dependency in another schema, with a name that needs quotes, follows its table', async () => {
    await app.query(`CREATE SCHEMA "Look ups";
      CREATE TABLE "Look ups"."Options ""quoted""" (id int PRIMARY KEY, hospital_id int);
      INSERT INTO "Look ups"."Options ""quoted""" VALUES (1, 10), (2, 20)`);
    await app.query(`INSERT INTO timesheet VALUES (1, 101, 'draft', 1), (2, 102, 'draft', 2)`);
    await applyInTransaction(legacy, endpoint(), 'up');
    const before = await catalogSnapshot(app);
    const quoted = buildMigration(
      'quoted',
      linkTo(pair.legacy, names.legacy, 'DEPS_LEGACY_PASSWORD'),
      syncTrigger({
        server: 'legacy',
        table: 'timesheet',
        key: ['id'],
        columns: [
          'id',
          'worker_id',
          'status',
          {
            remote: 'hospital_id',
            expression: sqlExpression(
              '(SELECT o.hospital_id FROM "Look ups"."Options ""quoted""" AS o WHERE o.id = src.timesheet_options_id)',
            ),
          },
          { remote: 'is_approved', expression: sqlExpression(`src.status = 'approved'`) },
        ],
        dependsOn: [
          {
            table: { schema: 'Look ups', name: 'Options "quoted"' },
            rows: sqlExpression('src.timesheet_options_id = dep.id'),
          },
        ],
      }),
    );
    await applyInTransaction(app, quoted, 'up');
    await app.query(`UPDATE timesheet SET status = status`);
    await app.query(`UPDATE "Look ups"."Options ""quoted""" SET hospital_id = 22 WHERE id = 2`);
    expect((await legacy.query('SELECT id, hospital_id FROM timesheet ORDER BY id')).rows).toEqual([
      { id: 1, hospital_id: 10 },
      { id: 2, hospital_id: 22 },
    ]);
    await expect(app.query(`TRUNCATE "Look ups"."Options ""quoted"""`)).rejects.toThrow(
      /TRUNCATE of "Look ups"\."Options ""quoted""" is refused/,
    );
    await applyInTransaction(app, quoted, 'down');
    expect(await catalogSnapshot(app)).toEqual(before);
  });
});

describe('set-up', () => {
  it('a dependency table or rows condition that is wrong fails the migration, naming the sync', async () => {
    await applyInTransaction(legacy, endpoint(), 'up');
    const before = await catalogSnapshot(app);
    const wrong = (table: string, rows: string) =>
      buildMigration(
        'wrong',
        linkTo(pair.legacy, names.legacy, 'DEPS_LEGACY_PASSWORD'),
        syncTrigger({
          server: 'legacy',
          table: 'timesheet',
          key: ['id'],
          columns: ['id', 'worker_id', 'status', { remote: 'hospital_id', expression: HOSPITAL }, 'is_approved'].map(
            (column) =>
              column === 'is_approved' ? { remote: 'is_approved', expression: sqlExpression('true') } : column,
          ),
          dependsOn: [{ table, rows: sqlExpression(rows) }],
        }),
      );
    await expect(
      applyInTransaction(app, wrong('timesheet_option', 'src.timesheet_options_id = dep.id'), 'up'),
    ).rejects.toThrow(
      /cannot set up the dependency of the sync of public\.timesheet to public\.timesheet on server legacy on public\.timesheet_option: relation "public\.timesheet_option" does not exist/,
    );
    await expect(applyInTransaction(app, wrong('timesheet_options', 'src.option_id = dep.id'), 'up')).rejects.toThrow(
      /cannot set up the dependency of the sync of public\.timesheet .* column src\.option_id does not exist/,
    );
    expect(await catalogSnapshot(app)).toEqual(before);
  });
});
