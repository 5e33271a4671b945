import {
  empty,
  expression,
  ident,
  integer,
  join,
  literal,
  qualified,
  sql,
  type Fragment,
  type QualifiedName,
} from '../sql/index.js';
import type { TablePair } from './table-pair.js';
import { matchingRows } from '../kinds/sync/sync-filter.js';

/**
 * One side of a comparison, as SQL over its table read as `src`: each mapped column's value and
 * each key column's value, in the order of the pair's columns and key, and the column of this
 * side's table that stores each one (none for a value computed by an expression).
 */
export interface Side {
  readonly which: 'local' | 'remote';
  readonly table: QualifiedName;
  readonly values: readonly Fragment[];
  readonly keys: readonly Fragment[];
  readonly stored: readonly (string | undefined)[];
  readonly storedKeys: readonly (string | undefined)[];
  /** The rows compared, read as `src`: the table, or only its rows that match the sync's filter. */
  readonly rows: Fragment;
}

const column = (name: string) => sql`src.${ident(name)}`;

export function sidesOf(pair: TablePair): { local: Side; remote: Side } {
  const localValue = (remote: string) => {
    const source = pair.columns.find((entry) => entry.remote === remote)!.source;
    return 'column' in source
      ? { sql: column(source.column), stored: source.column }
      : { sql: expression(source.expression), stored: undefined };
  };
  const local = pair.columns.map((entry) => localValue(entry.remote));
  const localKeys = pair.key.map(localValue);
  return {
    local: Object.freeze({
      which: 'local' as const,
      table: pair.local,
      values: local.map((entry) => entry.sql),
      keys: localKeys.map((entry) => entry.sql),
      stored: local.map((entry) => entry.stored),
      storedKeys: localKeys.map((entry) => entry.stored),
      // A filtered sync carries only matching rows: the others are not expected on the other side.
      rows: sql`${matchingRows(pair.local, pair.where)} AS src`,
    }),
    remote: Object.freeze({
      which: 'remote' as const,
      table: pair.remote,
      values: pair.columns.map((entry) => column(entry.remote)),
      keys: pair.key.map(column),
      stored: pair.columns.map((entry) => entry.remote),
      storedKeys: pair.key,
      rows: sql`${qualified(pair.remote)} AS src`,
    }),
  };
}

// Values compare by their text form, NULL apart from every text: ROW(...)::text writes NULL as
// nothing and quotes an empty or special string, so distinct rows give distinct texts.
const textOf = (value: Fragment) => sql`(${value})::text`;
const rowText = (values: readonly Fragment[]) => sql`ROW(${join(values.map(textOf))})::text`;
/**
 * The 64-bit hash PostgreSQL's hash partitioning uses (so it cannot change between versions:
 * pg_upgrade keeps rows in their partitions), over bytes (collation C), several times cheaper
 * than md5. It depends on the server's byte order, which both sides check first (HASH_CHECK).
 */
const hash64 = (text: Fragment) => sql`hashtextextended(${text} COLLATE "C", 0)`;
const rowHash = (side: Side) => hash64(rowText(side.values));
/** 24 bits of the key's hash: rows are grouped by its leading bits, the same way on both sides. */
const keyBits = (side: Side) => sql`((${hash64(rowText(side.keys))} >> 40) & 16777215)::int4`;
export const HASH_BITS = 24;
/** The same on two servers whose hashes agree. */
export const HASH_CHECK = sql`SELECT hashtextextended('pg-sync-link' COLLATE "C", 0)::text AS hash`;
const keyAliases = (side: Side) => side.keys.map((key, index) => sql`${textOf(key)} AS ${ident(`k${index}`)}`);

/** No rows, but every column and expression evaluated once by the planner and executor. */
export function probeRows(side: Side): Fragment {
  return sql`SELECT ${join(side.values.map(textOf))} FROM ${side.rows} LIMIT 0`;
}

export function countRows(side: Side): Fragment {
  return sql`SELECT count(*)::int8 AS n FROM ${side.rows}`;
}

/**
 * Per bucket (the key hash's first `bits` bits) of the buckets under `$1` (parents at
 * `parentBits`; all rows when it is 0): row count and the order-free sum of the row hashes.
 */
export function bucketSums(side: Side, bits: number, parentBits: number): Fragment {
  // With no parents (the first pass), no filter: the planner then expects every row and hashes the groups.
  const filter = parentBits === 0 ? empty : sql`\nWHERE s.h >> ${integer(HASH_BITS - parentBits)} = ANY ($1::int4[])`;
  return sql`SELECT s.h >> ${integer(HASH_BITS - bits)} AS bucket, count(*)::int8 AS n, sum(s.rh)::text AS sig
FROM (SELECT ${keyBits(side)} AS h, ${rowHash(side)} AS rh FROM ${side.rows}) AS s${filter}
GROUP BY 1`;
}

/** Each row's key (as text, k0, k1...) and row hash, in the buckets `$1` at `bits`, or every row's (`bits` undefined). */
export function rowHashes(side: Side, bits: number | undefined): Fragment {
  const rows = sql`SELECT ${join(keyAliases(side))}, ${rowHash(side)} AS rh FROM ${side.rows}`;
  if (bits === undefined) return rows;
  return sql`${rows}\nWHERE ${keyBits(side)} >> ${integer(HASH_BITS - bits)} = ANY ($1::int4[])`;
}

/** Typed rows of `table` from a JSON array of objects keyed by column name: values go through each type's input function. */
const typedRows = (table: QualifiedName) => sql`jsonb_populate_recordset(NULL::${qualified(table)}, $1::jsonb) AS w`;

/**
 * The mapped values (v0, v1... as text) of the rows whose keys are in `$1`: a JSON array of
 * objects keyed by this side's key columns, or, when a key is computed by an expression, by
 * the remote key names (then matched by text, without an index).
 */
export function rowsByKey(side: Side, keyNames: readonly string[]): Fragment {
  const values = join(side.values.map((value, index) => sql`${textOf(value)} AS ${ident(`v${index}`)}`));
  if (side.storedKeys.every((name) => name !== undefined)) {
    const on = join(
      side.storedKeys.map((name) => sql`src.${ident(name!)} = w.${ident(name!)}`),
      ' AND ',
    );
    return sql`SELECT ${values} FROM ${side.rows} JOIN ${typedRows(side.table)} ON ${on}`;
  }
  const on = join(
    side.keys.map((key, index) => sql`${textOf(key)} = w.k ->> ${literal(keyNames[index]!)}`),
    ' AND ',
  );
  return sql`SELECT ${values} FROM ${side.rows} JOIN jsonb_array_elements($1::jsonb) AS w(k) ON ${on}`;
}

/**
 * Upserts the rows of `$1` (JSON objects keyed by this side's columns) by key, setting only the
 * mapped columns, and only where their text differs: running it twice changes nothing.
 */
export function upsertRows(side: Side): Fragment {
  const columns = side.stored.map((name) => ident(name!));
  const keys = side.storedKeys.map((name) => ident(name!));
  const others = side.stored.filter((name) => !side.storedKeys.includes(name)).map((name) => ident(name!));
  const insert = sql`INSERT INTO ${qualified(side.table)} AS t (${join(columns)}) SELECT ${join(columns.map((name) => sql`w.${name}`))} FROM ${typedRows(side.table)}
ON CONFLICT (${join(keys)}) DO`;
  if (others.length === 0) return sql`${insert} NOTHING`;
  return sql`${insert} UPDATE SET ${join(others.map((name) => sql`${name} = EXCLUDED.${name}`))}
WHERE ROW(${join(others.map((name) => sql`t.${name}::text`))}) IS DISTINCT FROM ROW(${join(others.map((name) => sql`EXCLUDED.${name}::text`))})`;
}

/** Deletes the rows whose keys are in `$1` (JSON objects keyed by this side's key columns). */
export function deleteRows(side: Side): Fragment {
  const on = join(
    side.storedKeys.map((name) => sql`t.${ident(name!)} = w.${ident(name!)}`),
    ' AND ',
  );
  return sql`DELETE FROM ${qualified(side.table)} AS t USING ${typedRows(side.table)} WHERE ${on}`;
}
