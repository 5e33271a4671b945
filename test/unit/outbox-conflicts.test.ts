import { describe, expect, it } from 'vitest';
import {
  InvalidOptionError,
  listConflicts,
  previewSql,
  syncTrigger,
  type SyncTriggerOptions,
} from '../../src/index.js';
import { renderNode } from '../../src/kinds/index.js';

const base: SyncTriggerOptions = {
  server: 'legacy',
  table: { schema: 'shop', name: 'orders' },
  key: ['id'],
  columns: ['id', 'name', { remote: 'changed_at', local: 'updated_at' }],
  delivery: 'outbox',
  ignoreWritesBy: { role: 'sync_from_legacy' },
};
const withPolicy = (conflicts: unknown, options: Partial<SyncTriggerOptions> = {}) =>
  syncTrigger({ ...base, ...options, conflicts: conflicts as SyncTriggerOptions['conflicts'] });
const policyOf = (node: object) => (node as { conflicts?: unknown }).conflicts;

describe('two-way outbox conflict policy', () => {
  it('is checked before any SQL exists, every message naming the sync and what to write', () => {
    const refused = (conflicts: unknown, message: RegExp, options: Partial<SyncTriggerOptions> = {}) => {
      expect(() => withPolicy(conflicts, options)).toThrow(InvalidOptionError);
      expect(() => withPolicy(conflicts, options)).toThrow(message);
    };
    const policy = { thisSide: 'app', winner: 'legacy' };
    refused(
      policy,
      /sync of "orders" to server "legacy": conflicts apply to a two-way outbox; add delivery: 'outbox'/,
      {
        delivery: 'write-through',
      },
    );
    refused(policy, /sync of "orders" to server "legacy": conflicts needs ignoreWritesBy/, {
      ignoreWritesBy: undefined,
    });
    refused(
      { winner: 'legacy' },
      /conflicts\.thisSide is required: this database's name in the policy \(the other side is "legacy"/,
    );
    refused({ thisSide: 'legacy', winner: 'legacy' }, /thisSide is "legacy", the name of the other side/);
    refused(
      { thisSide: 'app', winner: 'lagacy' },
      /winner must name a side: "app" \(this side\) or "legacy" \(the other side\), got "lagacy"/,
    );
    refused({ thisSide: 'app' }, /takes either \{ latest: '<column>', ties: '<side>' \}.* or \{ winner: '<side>' \}/);
    refused({ thisSide: 'app', winner: 'app', latest: 'updated_at' }, /takes either/);
    refused({ thisSide: 'app', winner: 'app', ties: 'app' }, /ties goes with latest/);
    refused(
      { thisSide: 'app', latest: 'changed_at', ties: 'app' },
      /latest must name a local column this sync sends \(one of id, name, updated_at\), got "changed_at"/,
    );
    refused({ thisSide: 'app', latest: 'updated_at' }, /ties is required with latest/);
    refused({ thisSide: 'app', latest: 'updated_at', ties: 'both' }, /ties must name a side/);
    refused({ thisSide: 'app', winer: 'app' }, /Unknown option "winer".*Did you mean "winner"\?/);
  });

  it('is frozen into the node as seen from this side', () => {
    expect(policyOf(withPolicy({ thisSide: 'app', latest: 'updated_at', ties: 'legacy' }))).toEqual({
      thisSide: 'app',
      otherSide: 'legacy',
      rule: 'latest',
      column: 'updated_at',
      winner: 'legacy',
      text: 'latest updated_at, ties to legacy',
    });
    expect(policyOf(withPolicy({ thisSide: 'app', winner: 'app' }))).toMatchObject({
      rule: 'winner',
      text: 'app wins',
    });
    // No policy, no conflict objects: an outbox without one renders as before.
    expect('conflicts' in syncTrigger(base)).toBe(false);
  });

  it('adds a key index, the log, the settling function and a trigger for the other side only; down removes them', () => {
    const { up, down } = renderNode(withPolicy({ thisSide: 'app', latest: 'updated_at', ties: 'legacy' }));
    const text = up.map(previewSql);
    const plain = renderNode(syncTrigger(base));
    expect(text.slice(0, plain.up.length)).toEqual(plain.up.map(previewSql));
    const added = text.slice(plain.up.length);
    expect(added[0]).toBe('CREATE INDEX ON shop.orders__outbox_legacy USING gin (id) WITH (fastupdate = off)');
    expect(added[1]).toMatch(
      /^CREATE TABLE shop\.orders__conflicts_legacy \(\n {2}id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,/,
    );
    expect(added[2]).toBe(
      "COMMENT ON TABLE shop.orders__conflicts_legacy IS 'pg-sync-link conflict log of shop.orders to public.orders on server legacy'",
    );
    expect(added[3]).toContain('CREATE FUNCTION shop.orders__resolve_legacy() RETURNS trigger');
    expect(added[3]).toContain(
      'CASE WHEN NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN true\n      WHEN OLD.updated_at IS NULL THEN true WHEN NEW.updated_at IS NULL THEN false\n      ELSE NEW.updated_at > OLD.updated_at END',
    );
    expect(added[3]).toMatch(/pg_catalog\.pg_try_advisory_xact_lock\(-?\d+, -?\d+\)/);
    expect(added.slice(4)).toEqual([
      "CREATE TRIGGER sync_from_legacy_conflicts BEFORE INSERT OR UPDATE OR DELETE ON shop.orders FOR EACH ROW WHEN (SESSION_USER = 'sync_from_legacy') EXECUTE FUNCTION shop.orders__resolve_legacy()",
      'ALTER TABLE shop.orders ENABLE ALWAYS TRIGGER sync_from_legacy_conflicts',
    ]);
    const undo = down.map(previewSql);
    expect(undo.slice(1, 4)).toEqual([
      'DROP TRIGGER sync_from_legacy_conflicts ON shop.orders',
      'DROP FUNCTION shop.orders__resolve_legacy()',
      'DROP TABLE shop.orders__conflicts_legacy',
    ]);
  });

  it('the fixed winner decides deletes too', () => {
    const sqlOf = (winner: string) =>
      previewSql(
        renderNode(withPolicy({ thisSide: 'app', winner })).up.find((s) => previewSql(s).includes('__resolve_'))!,
      );
    // Changed here, deleted there: the delete wins only when its side is the winner.
    expect(sqlOf('legacy')).toContain('this_version := pg_catalog.to_jsonb(OLD);\n    other_wins := true;');
    expect(sqlOf('app')).toContain('this_version := pg_catalog.to_jsonb(OLD);\n    other_wins := false;');
  });

  it('listConflicts refuses a sync without a policy and a bad limit before connecting', async () => {
    await expect(listConflicts('postgres://nowhere.invalid/x', { sync: syncTrigger(base) })).rejects.toThrow(
      /the sync of orders to server legacy declares no conflicts policy, so it keeps no conflict log/,
    );
    await expect(listConflicts('postgres://nowhere.invalid/x', { limit: 0 })).rejects.toThrow(
      /limit must be a whole number/,
    );
  });
});
