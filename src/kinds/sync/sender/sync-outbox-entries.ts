import { createHash } from 'node:crypto';
import { ident, integer, join, sql, type Fragment } from '../../../sql/index.js';
import type { OutboxSyncNode } from '../sync-trigger-node.js';
import { requiredLocalKey } from './sync-sender-sql.js';

// How an outbox holds its keys. A statement's changed keys are recorded as arrays, one outbox
// row per OUTBOX_CHUNK keys: recording costs one insert per statement, not one per row. An
// entry is one key of one row, named by (pg_sync_seq, pg_sync_ord), its position in the row.

/** Keys per outbox row: a statement that changes more rows records more rows. */
export const OUTBOX_CHUNK = 1000;

/** The local key columns (plain columns: the outbox requires it), as identifiers. */
export function outboxKeys(node: OutboxSyncNode): Fragment[] {
  return requiredLocalKey(node, "delivery: 'outbox'").map(ident);
}

/** Arrays side by side as rows: `ROWS FROM (pg_catalog.unnest(a), pg_catalog.unnest(b))` (a qualified unnest takes one array). */
export function unnested(arrays: readonly Fragment[]): Fragment {
  return sql`ROWS FROM (${join(arrays.map((array) => sql`pg_catalog.unnest(${array})`))})`;
}

/** `ROWS FROM (...) WITH ORDINALITY AS alias(k1, k2, pg_sync_ord)`: the entries of outbox rows `row`. */
export function entriesOf(row: string, alias: string, keys: readonly Fragment[]): Fragment {
  return sql`${unnested(keys.map((key) => sql`${ident(row)}.${key}`))} WITH ORDINALITY AS ${ident(alias)}(${join(keys)}, pg_sync_ord)`;
}

/** `left.k1 = right.k1 AND ...` over the key columns. */
export function sameKey(keys: readonly Fragment[], left: string, right: string): Fragment {
  return join(
    keys.map((key) => sql`${ident(left)}.${key} = ${ident(right)}.${key}`),
    ' AND ',
  );
}

/**
 * Removes entries, given as parallel arrays of rows and positions, from the outbox: a row left
 * without entries goes, the others keep the rest of their keys in order.
 */
export function removeEntries(outbox: Fragment, keys: readonly Fragment[], seqs: Fragment, ords: Fragment): Fragment[] {
  const taken = sql`(SELECT t.seq, pg_catalog.array_agg(t.ord) AS ords, pg_catalog.count(*) AS n
      FROM ${unnested([seqs, ords])} AS t(seq, ord) GROUP BY t.seq)`;
  const rest = (key: Fragment) =>
    sql`${key} = (SELECT pg_catalog.array_agg(u.${key} ORDER BY u.pg_sync_ord) FROM pg_catalog.unnest(o.${key}) WITH ORDINALITY AS u(${key}, pg_sync_ord) WHERE u.pg_sync_ord <> ALL (t.ords))`;
  return [
    sql`DELETE FROM ${outbox} AS o USING ${taken} AS t
      WHERE o.pg_sync_seq = t.seq AND pg_catalog.cardinality(o.${keys[0]!}) <= t.n`,
    sql`UPDATE ${outbox} AS o SET ${join(keys.map(rest))}
      FROM ${taken} AS t WHERE o.pg_sync_seq = t.seq`,
  ];
}

/** Two int4 keys for pg_advisory_xact_lock, fixed per outbox: one drain (or discard) at a time. */
export function drainLockKeys(node: OutboxSyncNode): [Fragment, Fragment] {
  const digest = createHash('sha256')
    .update(JSON.stringify(['pg-sync-link drain', node.table.schema, node.table.name, node.server]))
    .digest();
  return [integer(digest.readInt32BE(0)), integer(digest.readInt32BE(4))];
}
