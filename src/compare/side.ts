import {
  empty,
  expression,
  ident,
  integer,
  join,
  literal,
  qualified,
  quoteQualifiedName,
  sql,
  type Fragment,
  type QualifiedName,
} from '../sql/index.js';
import { HASH_BITS, keyBits, rowHash, type HashPlan } from './row-hash.js';
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

// Values compare by their text form (see row-hash.ts for how they are hashed).
const textOf = (value: Fragment) => sql`(${value})::text`;
const keyAliases = (side: Side) => side.keys.map((key, index) => sql`${textOf(key)} AS ${ident(`k${index}`)}`);

/** No rows, but every column and expression evaluated once by the planner and executor. */
export function probeRows(side: Side): Fragment {
  return sql`SELECT ${join(side.values.map(textOf))} FROM ${side.rows} LIMIT 0`;
}

/**
 * About how many rows the table has, to size the first pass's buckets (whose sums then give
 * the exact counts): the planner's estimate from the table's statistics and its current size,
 * or a count when it has none (never analyzed, or not a plain table).
 */
export function estimatedRows(side: Side): Fragment {
  return sql`SELECT COALESCE((SELECT (c.reltuples / c.relpages * (pg_relation_size(c.oid) / current_setting('block_size')::int8))::int8
  FROM pg_class c WHERE c.oid = ${literal(quoteQualifiedName(side.table))}::regclass AND c.relkind IN ('r', 'm') AND c.relpages > 0 AND c.reltuples > 0),
  (SELECT count(*) FROM ${side.rows}))::int8 AS n`;
}

/**
 * Per bucket (the key hash's first `bits` bits) of the buckets under `$1` (parents at
 * `parentBits`; all rows when it is 0): row count and the order-free sum of the row hashes.
 */
export function bucketSums(side: Side, plan: HashPlan, bits: number, parentBits: number): Fragment {
  // With no parents (the first pass), no filter: the planner then expects every row and hashes the groups.
  const filter = parentBits === 0 ? empty : sql`\nWHERE s.h >> ${integer(HASH_BITS - parentBits)} = ANY ($1::int4[])`;
  return sql`SELECT s.h >> ${integer(HASH_BITS - bits)} AS bucket, count(*)::int8 AS n, sum(s.rh)::text AS sig
FROM (SELECT ${keyBits(side, plan)} AS h, ${rowHash(side, plan)} AS rh FROM ${side.rows}) AS s${filter}
GROUP BY 1`;
}

/** Each row's key (as text, k0, k1...) and row hash, in the buckets `$1` at `bits`, or every row's (`bits` undefined). */
export function rowHashes(side: Side, plan: HashPlan, bits: number | undefined): Fragment {
  const rows = sql`SELECT ${join(keyAliases(side))}, ${rowHash(side, plan)} AS rh FROM ${side.rows}`;
  if (bits === undefined) return rows;
  return sql`${rows}\nWHERE ${keyBits(side, plan)} >> ${integer(HASH_BITS - bits)} = ANY ($1::int4[])`;
}

/** What the copy needs to know of a side's table: each column's type, to cast text to. */
interface ColumnTypes {
  readonly columns: ReadonlyMap<string, QualifiedName>;
}

/**
 * Rows from text arrays `$1, $2...` (one per column, the same length), read as `w(<names>)`.
 * Arrays of text are the cheapest way to send many values: no JSON to build, escape or parse.
 */
const textArrays = (names: readonly string[]) =>
  sql`unnest(${join(names.map((_, index) => sql`$${integer(index + 1)}::text[]`))}) AS w(${join(names.map(ident))})`;

/** `w.<name>` cast to a column's type: through that type's input function, as a literal would be. */
const typed = (info: ColumnTypes, column: string, name: string) =>
  sql`w.${ident(name)}::${qualified(info.columns.get(column)!)}`;

const keyNames = (side: Side) => side.keys.map((_, index) => `k${index}`);

/**
 * The mapped values of the rows whose keys are in `$1, $2...` (one text array per key column),
 * as one row of text arrays in their text form (v0, v1...), ready to bind as upsertRows' `$1,
 * $2...` as they are: the values are not parsed or escaped in between. One aggregate reads the
 * rows once, so every array has them in the same order. Keys are matched to the key columns
 * through an index, or, when one is computed by an expression, by text (without an index).
 */
export function rowsByKey(side: Side, info: ColumnTypes): Fragment {
  const arrays = join(
    side.values.map((value, index) => sql`array_agg(${textOf(value)})::text AS ${ident(`v${index}`)}`),
  );
  const names = keyNames(side);
  const stored = side.storedKeys.every((name) => name !== undefined);
  const on = join(
    side.keys.map((key, index) =>
      stored
        ? sql`${key} = ${typed(info, side.storedKeys[index]!, names[index]!)}`
        : sql`${textOf(key)} = w.${ident(names[index]!)}`,
    ),
    ' AND ',
  );
  return sql`SELECT ${arrays} FROM ${side.rows} JOIN ${textArrays(names)} ON ${on}`;
}

/**
 * Upserts the rows of `$1, $2...` (a text array per mapped column, in order) by key, setting
 * only the mapped columns, and only where their text differs: running it twice changes nothing.
 */
export function upsertRows(side: Side, info: ColumnTypes): Fragment {
  const names = side.stored.map((_, index) => `v${index}`);
  const columns = side.stored.map((name) => ident(name!));
  const keys = side.storedKeys.map((name) => ident(name!));
  const others = side.stored.filter((name) => !side.storedKeys.includes(name)).map((name) => ident(name!));
  const values = side.stored.map((name, index) => typed(info, name!, names[index]!));
  const insert = sql`INSERT INTO ${qualified(side.table)} AS t (${join(columns)}) SELECT ${join(values)} FROM ${textArrays(names)}
ON CONFLICT (${join(keys)}) DO`;
  if (others.length === 0) return sql`${insert} NOTHING`;
  return sql`${insert} UPDATE SET ${join(others.map((name) => sql`${name} = EXCLUDED.${name}`))}
WHERE ROW(${join(others.map((name) => sql`t.${name}::text`))}) IS DISTINCT FROM ROW(${join(others.map((name) => sql`EXCLUDED.${name}::text`))})`;
}

/** Deletes the rows whose keys are in `$1, $2...` (a text array per key column). */
export function deleteRows(side: Side, info: ColumnTypes): Fragment {
  const names = keyNames(side);
  const on = join(
    side.storedKeys.map((name, index) => sql`t.${ident(name!)} = ${typed(info, name!, names[index]!)}`),
    ' AND ',
  );
  return sql`DELETE FROM ${qualified(side.table)} AS t USING ${textArrays(names)} WHERE ${on}`;
}
