import { describe, expect, it } from 'vitest';
import { formatDiagnosis } from '../../src/index.js';
import { driftFinding } from '../../src/doctor/drift.js';
import { exitCodeOf, finding, worstOf } from '../../src/doctor/findings.js';
import { headroomFindings, headroomOf, widening } from '../../src/doctor/headroom.js';
import { syncServerOf, type ForeignTableInfo, type SequenceUse } from '../../src/doctor/inventory.js';
import { senderObjects } from '../../src/kinds/sync/sync-names.js';
import { errorText } from '../../src/doctor/remote.js';
import { versionFindings, type FeatureUse } from '../../src/doctor/version-gates.js';

const sequence = (overrides: Partial<SequenceUse>): SequenceUse => ({
  sequence: 'orders_id_seq',
  kind: 'per-row',
  role: 'the id sequence of orders.id',
  column: { table: 'orders', name: 'id' },
  dataType: 'bigint',
  min: 1n,
  max: 100n,
  increment: 1n,
  start: 1n,
  last: null,
  readable: true,
  ...overrides,
});

const NOTHING: FeatureUse = {
  syncTriggers: 0,
  sharedIdObjects: 0,
  fdwOptions: new Set(),
  publications: 0,
  subscriptions: 0,
  subscriptionsOriginNone: 0,
};

describe('doctor: sequence headroom', () => {
  it('counts the values left and the share used, ascending, descending and stepping', () => {
    expect(headroomOf(sequence({}))).toEqual({ remaining: 100n, used: 0 });
    expect(headroomOf(sequence({ last: 80n }))).toEqual({ remaining: 20n, used: 0.8 });
    expect(headroomOf(sequence({ last: 100n }))).toEqual({ remaining: 0n, used: 1 });
    expect(headroomOf(sequence({ last: 99n, increment: 2n }))).toEqual({ remaining: 0n, used: 1 });
    expect(headroomOf(sequence({ last: 97n, increment: 2n })).remaining).toBe(1n);
    expect(headroomOf(sequence({ min: -100n, max: -1n, increment: -1n, start: -1n, last: -91n }))).toEqual({
      remaining: 9n,
      used: 0.91,
    });
    expect(headroomOf(sequence({ min: 1n, max: 9223372036854775807n, last: 9223372036854775806n })).remaining).toBe(1n);
  });

  it('is ok below the threshold, a warning from it, an error when exhausted', () => {
    const severities = (warnAt?: number) =>
      headroomFindings(
        [sequence({ last: 79n }), sequence({ last: 80n }), sequence({ last: 100n }), sequence({ readable: false })],
        warnAt,
      ).map((item) => item.severity);
    expect(severities()).toEqual(['ok', 'warning', 'error', 'warning']);
    expect(severities(0.5)).toEqual(['warning', 'warning', 'error', 'warning']);
    expect(headroomFindings([sequence({ last: 100n })])[0]!.message).toBe(
      'The id sequence of orders.id is exhausted (at 100 of 1..100, step 1): the next nextval fails, and so does every insert that needs an id.',
    );
  });

  it('says how to widen each kind of sequence', () => {
    expect(widening(sequence({ dataType: 'integer', max: 2147483647n }))).toBe(
      "ALTER SEQUENCE orders_id_seq AS bigint; ALTER TABLE orders ALTER COLUMN id TYPE bigint (its limits follow the type when they were the old type's).",
    );
    expect(widening(sequence({ max: 5000n }))).toBe('ALTER SEQUENCE orders_id_seq NO MAXVALUE.');
    expect(widening(sequence({ max: 9223372036854775807n }))).toMatch(/is at the bigint limit/);
    expect(widening(sequence({ kind: 'capped' }))).toMatch(/^Its cap is the first shared block: move the blocks up/);
  });
});

describe('doctor: version gates', () => {
  it('states the version, and fails only the features in use that it lacks', () => {
    const old = versionFindings('13.9', 130009, { ...NOTHING, syncTriggers: 4 });
    expect(old.map((item) => item.severity)).toEqual(['ok', 'error']);
    expect(old[1]).toMatchObject({
      message:
        'postgres_fdw batch_size (the foreign tables of syncTrigger) needs PostgreSQL 14 or later; this server is 13.9.',
      fix: expect.stringMatching(/^Upgrade this server to PostgreSQL 14/),
    });
    expect(old[0]!.message).toMatch(
      /^PostgreSQL 13\.9 \(server_version_num 130009\)\. In use and supported: statement triggers with transition tables \(syncTrigger\) \(10\+\); CREATE TRIGGER/,
    );

    const unused = versionFindings('15.4', 150004, NOTHING);
    expect(unused.map((item) => item.severity)).toEqual(['ok']);
    expect(unused[0]!.message).toContain(
      'Not available on this version, not used here: postgres_fdw parallel_abort (16+); postgres_fdw analyze_sampling (16+); subscription origin = none (two-way logical replication) (16+).',
    );

    // A subscription with the default origin is not two-way: it is not reported as using origin = none.
    const plain = versionFindings('18.1', 180001, { ...NOTHING, subscriptions: 1 });
    expect(plain[0]!.message).not.toContain('subscription origin = none');
    expect(
      versionFindings('15.4', 150004, {
        ...NOTHING,
        subscriptions: 1,
        subscriptionsOriginNone: 1,
        fdwOptions: new Set(['parallel_commit', 'parallel_abort']),
      })
        .filter((item) => item.severity === 'error')
        .map((item) => item.message),
    ).toEqual([
      'postgres_fdw parallel_abort needs PostgreSQL 16 or later; this server is 15.4.',
      'subscription origin = none (two-way logical replication) needs PostgreSQL 16 or later; this server is 15.4.',
    ]);
  });
});

describe('doctor: names and messages', () => {
  it('finds the server of a sync trigger from the names syncTrigger derives', () => {
    const servers = ['legacy', 'old_db', 'other'];
    expect(syncServerOf('public', 'products', 'products__sync_to_legacy', 'sync_to_legacy_update_key', servers)).toBe(
      'legacy',
    );
    expect(syncServerOf('public', 'products', 'products__sync_to_old_db', 'sync_to_old_db_commit', servers)).toBe(
      'old_db',
    );
    expect(
      syncServerOf('public', 'products', 'products__sync_to_legacy', 'sync_to_other_insert', servers),
    ).toBeUndefined();
    expect(syncServerOf('public', 'products', 'audit', 'sync_to_legacy_insert', servers)).toBeUndefined();
    // A long table and server: the shortened names syncTrigger derives are found all the same.
    const table = 't'.repeat(63);
    const server = 's'.repeat(63);
    const objects = senderObjects({ schema: 'public', name: table }, server);
    expect(Buffer.byteLength(objects.upsertTable.name)).toBeLessThanOrEqual(63);
    expect(
      syncServerOf('public', table, objects.function.name, objects.trigger('truncate'), [...servers, server]),
    ).toBe(server);
  });

  it('scrubs secrets from a remote error, raw or quoted, and keeps it on one line', () => {
    const text = errorText(
      { message: `could not connect to server "legacy"`, detail: `bad password s'cret\nand 's''cret'` },
      ["s'cret"],
    );
    expect(text).toBe('could not connect to server "legacy": bad password [redacted] and [redacted]');
  });

  it('compares foreign columns by type, ignoring a remote modifier when the foreign column has none', () => {
    const table: ForeignTableInfo = {
      schema: 'public',
      name: 'legacy_items',
      server: 'legacy',
      remote: { schema: 'public', name: 'items' },
      options: new Map(),
      columns: [
        { name: 'title', remoteName: 'title', typeOid: 1043, typmod: -1, type: 'character varying' },
        { name: 'code', remoteName: 'item_code', typeOid: 1043, typmod: 14, type: 'character varying(10)' },
      ],
    };
    const remote = {
      schema: 'public',
      name: 'items',
      columns: [
        { name: 'title', typeSchema: 'pg_catalog', typeName: 'varchar', typmod: 259 },
        { name: 'item_code', typeSchema: 'pg_catalog', typeName: 'varchar', typmod: 24 },
      ],
    };
    const types = (column: { typmod: number }) => ({ oid: 1043, display: `character varying(${column.typmod - 4})` });
    expect(driftFinding(table, { kind: 'plain' }, remote, types)).toMatchObject({
      severity: 'warning',
      message:
        'Columns of public.items on server legacy changed type: code (remote item_code) is character varying(10) here, character varying(20) there. Values convert through text, and may fail or lose precision.',
    });
    expect(
      driftFinding(table, { kind: 'shared-ids', fn: 'public.items__id_next_id', runsAs: 'postgres' }, undefined, types),
    ).toMatchObject({
      check: 'foreign-table-drift',
      severity: 'error',
      message:
        'public.items__id_next_id() takes ids from the remote view public.items, which the database of server legacy does not have: every insert that needs an id fails.',
    });
  });

  it('prints the worst first, with the fix under each, and the exit code', () => {
    const findings = [
      finding('version', 'ok', 'server', 'PostgreSQL 18.1.'),
      finding('sync-trigger', 'error', 'sync of public.p to server s', 'Disabled.', 'ALTER TABLE ...'),
    ];
    expect(worstOf(findings)).toBe('error');
    expect(exitCodeOf('warning')).toBe(1);
    expect(exitCodeOf('error')).toBe(1);
    expect(exitCodeOf('ok')).toBe(0);
    expect(
      formatDiagnosis({ serverVersion: '18.1', serverVersionNum: 180001, findings, worst: 'error', exitCode: 1 }),
    ).toBe(
      [
        'pg-sync-link doctor: PostgreSQL 18.1',
        '',
        'ERROR   [sync-trigger] sync of public.p to server s: Disabled.',
        '        fix: ALTER TABLE ...',
        'ok      [version] server: PostgreSQL 18.1.',
        '',
        '1 error, 0 warnings, 1 ok (exit code 1).',
      ].join('\n'),
    );
  });
});
