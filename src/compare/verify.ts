import { InvalidOptionError } from '../errors.js';
import type { DatabaseTarget, Session } from '../run/session.js';
import { checkSide, type TableInfo } from './catalog.js';
import { inTransaction, rowsOf, withBoth } from './connection.js';
import { HASH_BITS, HASH_CHECK, hashPlan } from './row-hash.js';
import { bucketSums, estimatedRows, rowHashes, sidesOf, type Side } from './side.js';
import { tablePair, type SyncNodeToCompare, type TablePair, type TablePairOptions } from './table-pair.js';

/** A row's key: each remote key column's value in its text form. */
export type KeyValues = Readonly<Record<string, string | null>>;

/** How far a comparison, backfill or reconcile has got, for a progress display. */
export interface CompareProgress {
  /** `count` rows, `compare` bucket sums, read the differing `keys`, `copy` rows, `delete` rows. */
  readonly phase: 'count' | 'compare' | 'keys' | 'copy' | 'delete';
  /** Steps (compare passes) or rows (copy, delete) done so far, of `total`. */
  readonly done: number;
  /** Steps or rows to do in this phase. */
  readonly total: number;
}

/** What verifyTables() takes: the two databases and the tables to compare. */
export interface VerifyOptions {
  /** The side whose table the sync reads (where `syncTrigger` is installed): a pg Client, Pool or URL. */
  readonly local: DatabaseTarget;
  /** The side that receives: a pg Client, Pool or URL. */
  readonly remote: DatabaseTarget;
  /** What to compare: the `syncTrigger(...)` node itself, or `{ table, remote?, key, columns }`. */
  readonly tables: SyncNodeToCompare | TablePairOptions;
  /** Rows per bucket to aim for in the first pass (at most 65536 buckets); default 100. */
  readonly bucketRows?: number;
  /** Called as the work advances; nothing by default. */
  readonly onProgress?: (progress: CompareProgress) => void;
}

/** The outcome of a comparison: equal, or the keys that differ. */
export interface VerifyResult {
  /** True when every key is on both sides with the same mapped values. */
  readonly equal: boolean;
  /** Rows on each side. */
  readonly counts: {
    /** Rows in the local table. */
    readonly local: number;
    /** Rows in the remote table. */
    readonly remote: number;
  };
  /** Keys on the local side only. */
  readonly missingOnRemote: readonly KeyValues[];
  /** Keys on the remote side only. */
  readonly missingOnLocal: readonly KeyValues[];
  /** Keys on both sides whose mapped values differ. */
  readonly differing: readonly KeyValues[];
  /** Passes over the tables that summed buckets. */
  readonly passes: number;
  /** The (key, hash) pairs read to pinpoint the differing keys. */
  readonly rowsFetched: number;
}

interface Bucket {
  bucket: number;
  n: string;
  sig: string;
}

const both = <T>(
  work: (session: Session, side: Side) => Promise<T>,
  sessions: readonly [Session, Session],
  sides: readonly [Side, Side],
) => Promise.all([work(sessions[0], sides[0]), work(sessions[1], sides[1])]);

/** Read the keys of differing buckets once they hold this many times bucketRows rows, or fewer. */
const FETCH_FACTOR = 64;
/** Buckets of the first pass at most: each one is a row sent from each side. */
const FIRST_PASS_BITS = 16;

/**
 * Compares the two sides inside one read-only snapshot per side. Rows are grouped by the
 * leading bits of their key's hash; each pass sums each group on both servers (count and an
 * order-free sum of row hashes) and keeps the groups that differ, with more bits, until they are
 * small enough: only then do their keys and row hashes cross the network.
 */
export async function compareSides(
  sessions: readonly [Session, Session],
  pair: TablePair,
  options: Pick<VerifyOptions, 'bucketRows' | 'onProgress'>,
  checked?: (infos: readonly [TableInfo, TableInfo]) => void,
): Promise<VerifyResult> {
  const { local, remote } = sidesOf(pair);
  const sides = [local, remote] as const;
  const bucketRows = options.bucketRows ?? 100;
  const progress = options.onProgress ?? (() => undefined);
  return inTransaction(sessions[0], 'read', () =>
    inTransaction(sessions[1], 'read', async () => {
      const infos = [await checkSide(sessions[0], local, pair), await checkSide(sessions[1], remote, pair)] as const;
      checked?.(infos);
      const plan = hashPlan(local, remote, infos);
      const hashes = await both((session) => rowsOf<{ hash: string }>(session, HASH_CHECK), sessions, sides);
      if (hashes[0][0]!.hash !== hashes[1][0]!.hash) {
        throw new InvalidOptionError(
          `The two servers hash text differently (a different byte order), so ${pair.label} cannot be compared by hashes.`,
          'remote',
        );
      }
      progress({ phase: 'count', done: 0, total: 1 });
      const estimates = (
        await both((session, side) => rowsOf<{ n: string }>(session, estimatedRows(side)), sessions, sides)
      ).map((rows) => Number(rows[0]!.n));
      let bits = Math.min(FIRST_PASS_BITS, Math.max(0, Math.ceil(Math.log2(Math.max(...estimates) / bucketRows))));
      let counts = { local: 0, remote: 0 };
      let parentBits = 0;
      let parents = [0];
      let passes = 0;
      for (;;) {
        passes += 1;
        progress({ phase: 'compare', done: passes - 1, total: passes });
        const sums = await both(
          (session, side) =>
            rowsOf<Bucket>(session, bucketSums(side, plan, bits, parentBits), parentBits === 0 ? [] : [parents]),
          sessions,
          sides,
        );
        // The first pass sums every row: its counts are the tables' counts.
        const total = (rows: readonly Bucket[]) => rows.reduce((sum, row) => sum + Number(row.n), 0);
        if (parentBits === 0) counts = { local: total(sums[0]), remote: total(sums[1]) };
        const [mine, theirs] = sums.map((rows) => new Map(rows.map((row) => [row.bucket, row])));
        const buckets = new Set([...mine!.keys(), ...theirs!.keys()]);
        const differing: number[] = [];
        let rows = 0;
        for (const bucket of buckets) {
          const a = mine!.get(bucket);
          const b = theirs!.get(bucket);
          if (a?.n !== b?.n || a?.sig !== b?.sig) {
            differing.push(bucket);
            rows += Number(a?.n ?? 0) + Number(b?.n ?? 0);
          }
        }
        progress({ phase: 'compare', done: passes, total: passes });
        if (differing.length === 0)
          return {
            equal: true,
            counts,
            missingOnRemote: [],
            missingOnLocal: [],
            differing: [],
            passes,
            rowsFetched: 0,
          };
        // Narrow only while it pays: when most groups differ, finer groups would differ too.
        if (bits < HASH_BITS && rows > FETCH_FACTOR * bucketRows && differing.length * 2 <= buckets.size) {
          parentBits = bits;
          parents = differing;
          bits = Math.min(HASH_BITS, bits + Math.max(4, Math.ceil(Math.log2(rows / bucketRows))));
          continue;
        }
        progress({ phase: 'keys', done: 0, total: rows });
        // When most buckets differ (a first backfill), every row is read: no filter to test.
        const all = differing.length * 2 > buckets.size;
        const leaves = await both(
          (session, side) =>
            rowsOf<Record<string, string | null>>(
              session,
              rowHashes(side, plan, all ? undefined : bits),
              all ? [] : [differing],
            ),
          sessions,
          sides,
        );
        progress({ phase: 'keys', done: rows, total: rows });
        return {
          ...classify(pair, leaves[0], leaves[1]),
          counts,
          passes,
          rowsFetched: leaves[0].length + leaves[1].length,
        };
      }
    }),
  );
}

function keyOf(pair: TablePair, row: Record<string, string | null>): KeyValues {
  return Object.freeze(Object.fromEntries(pair.key.map((name, index) => [name, row[`k${index}`] ?? null])));
}

function classify(
  pair: TablePair,
  localRows: readonly Record<string, string | null>[],
  remoteRows: readonly Record<string, string | null>[],
) {
  const index = (rows: readonly Record<string, string | null>[], which: string) => {
    const found = new Map<string, Record<string, string | null>>();
    for (const row of rows) {
      const values = pair.key.map((_, position) => row[`k${position}`] ?? null);
      const blank = values.indexOf(null);
      if (blank !== -1) {
        throw new InvalidOptionError(
          `Key column "${pair.key[blank]}" is NULL in a row on the ${which} side of ${pair.label}: a row with a NULL key cannot be matched. Give those rows a key, or compare by other columns.`,
          'key',
        );
      }
      const text = JSON.stringify(values);
      if (found.has(text)) {
        throw new InvalidOptionError(
          `The key (${pair.key.join(', ')}) is not unique on the ${which} side of ${pair.label}: ${text} is there twice. Compare by columns that identify a row.`,
          'key',
        );
      }
      found.set(text, row);
    }
    return found;
  };
  const mine = index(localRows, 'local');
  const theirs = index(remoteRows, 'remote');
  const missingOnRemote: KeyValues[] = [];
  const missingOnLocal: KeyValues[] = [];
  const differing: KeyValues[] = [];
  for (const [text, row] of mine) {
    const other = theirs.get(text);
    if (!other) missingOnRemote.push(keyOf(pair, row));
    else if (other.rh !== row.rh) differing.push(keyOf(pair, row));
  }
  for (const [text, row] of theirs) if (!mine.has(text)) missingOnLocal.push(keyOf(pair, row));
  const equal = missingOnRemote.length + missingOnLocal.length + differing.length === 0;
  return { equal, missingOnRemote, missingOnLocal, differing };
}

/**
 * Compares a table with its counterpart on the other side, after the sync's column mapping:
 * counts, the keys missing on each side and the keys whose values differ. Each side is read in
 * one snapshot, and only the rows of differing buckets cross the network (key and hash).
 *
 * @example
 * const result = await verifyTables({ local: appUrl, remote: legacyUrl, tables: productsSync });
 * if (!result.equal) console.log(result.missingOnRemote, result.differing);
 */
export async function verifyTables(options: VerifyOptions): Promise<VerifyResult> {
  const pair = tablePair(options.tables);
  return withBoth(options.local, options.remote, (local, remote) => compareSides([local, remote], pair, options));
}
