import { integer, join, sql, type Fragment } from '../sql/index.js';

// How a row and its key are hashed, the same way on both sides. Values compare by their text
// form, NULL apart from every text. A value whose column has the same built-in type on both
// sides, a type whose text form is a one-to-one function of its value (integers, timestamps,
// uuid), is hashed from its value instead: the same differences are found without printing it,
// which is most of the cost of a comparison.

/**
 * The 64-bit hashes PostgreSQL's hash partitioning uses (so they cannot change between
 * versions: pg_upgrade keeps rows in their partitions), by built-in type oid.
 */
const VALUE_HASHES: ReadonlyMap<number, (value: Fragment, seed: Fragment) => Fragment> = new Map([
  [20, (value, seed) => sql`hashint8extended(${value}, ${seed})`],
  [23, (value, seed) => sql`hashint4extended(${value}, ${seed})`],
  [21, (value, seed) => sql`hashint2extended(${value}, ${seed})`],
  [1114, (value, seed) => sql`timestamp_hash_extended(${value}, ${seed})`],
  // In UTC (set for every comparison) this cast only relabels the value.
  [1184, (value, seed) => sql`timestamp_hash_extended((${value})::timestamp, ${seed})`],
  [2950, (value, seed) => sql`uuid_hash_extended(${value}, ${seed})`],
]);

/** What the plan needs to know of a side's table: each column's type oid. */
interface ColumnTypes {
  readonly typeOids: ReadonlyMap<string, number>;
}

/** What is hashed of a side: its values and keys, and the columns that store them (none for an expression). */
interface Side {
  readonly values: readonly Fragment[];
  readonly keys: readonly Fragment[];
  readonly stored: readonly (string | undefined)[];
  readonly storedKeys: readonly (string | undefined)[];
}

/** For each value (and key) of a pair: the type oid both sides store it as, when it is hashed from its value. */
export interface HashPlan {
  readonly values: readonly (number | undefined)[];
  readonly keys: readonly (number | undefined)[];
}

/** Every value by its text form: what a comparison does when the column types are not known. */
export const TEXT_HASHES = (sides: { local: Side }): HashPlan => ({
  values: sides.local.values.map(() => undefined),
  keys: sides.local.keys.map(() => undefined),
});

/** Hashes by value where both sides store a value in a column of the same type from VALUE_HASHES. */
export function hashPlan(local: Side, remote: Side, infos: readonly [ColumnTypes, ColumnTypes]): HashPlan {
  const typeOf = (info: ColumnTypes, name: string | undefined) =>
    name === undefined ? undefined : info.typeOids.get(name);
  const pick = (localName: string | undefined, remoteName: string | undefined) => {
    const type = typeOf(infos[0], localName);
    return type !== undefined && VALUE_HASHES.has(type) && type === typeOf(infos[1], remoteName) ? type : undefined;
  };
  return {
    values: local.stored.map((name, index) => pick(name, remote.stored[index])),
    keys: local.storedKeys.map((name, index) => pick(name, remote.storedKeys[index])),
  };
}

/** XOR of one hash per value, each with its own seed (its position), a NULL hashed as the seed. */
function combined(values: readonly Fragment[], types: readonly (number | undefined)[]): Fragment {
  return join(
    values.map((value, index) => {
      const seed = integer(index);
      const type = types[index];
      const hash =
        type === undefined
          ? sql`hashtextextended((${value})::text COLLATE "C", ${seed})`
          : VALUE_HASHES.get(type)!(value, seed);
      return sql`COALESCE(${hash}, ${seed})`;
    }),
    ' # ',
  );
}

/** A row's 64-bit hash over its mapped values. */
export const rowHash = (side: Side, plan: HashPlan) => sql`(${combined(side.values, plan.values)})`;

/** Bits of the key's hash: rows are grouped by its leading bits, the same way on both sides. */
export const HASH_BITS = 24;

/** The key hash's leading HASH_BITS bits. */
export const keyBits = (side: Side, plan: HashPlan) =>
  sql`(((${combined(side.keys, plan.keys)}) >> 40) & 16777215)::int4`;

/** The same on two servers whose hashes agree. */
export const HASH_CHECK = sql`SELECT hashtextextended('pg-sync-link' COLLATE "C", 0)::text || ' ' || hashint8extended(1, 0)::text || ' ' || timestamp_hash_extended('2000-01-01', 0)::text AS hash`;
