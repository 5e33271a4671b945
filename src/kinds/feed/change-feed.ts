import { InvalidOptionError } from '../../errors.js';
import { checkArray, checkObject } from '../../spec/object.js';
import {
  checkIdentifier,
  checkQualifiedName,
  dollarQuoted,
  formatted,
  ident,
  integer,
  join,
  literal,
  qualified,
  raiseException,
  regclass,
  sql,
  type Fragment,
  type QualifiedName,
  type SqlExpression,
} from '../../sql/index.js';
import type { Rendered } from '../rendered.js';
import { type KindDefinition, nameIdentity } from '../kind.js';
import { displayName } from '../sync/sender/sync-sender-sql.js';
import { fitFamily, withSchema } from '../sync/sync-names.js';
import { uniqueKeyCheck } from '../sync/sync-endpoint.js';
import { fireAlways, refuseTruncate, truncateTrigger } from '../trigger-guards.js';
import { renderFeedUpkeep } from './feed-prune.js';
import { checkRowFilter, rowFilterCheck } from '../sync/sync-filter.js';
import { filteredChange } from './feed-filter.js';
import { feedObjects, type ChangeFeedNode } from './feed-names.js';

export { feedObjects, type ChangeFeedNode } from './feed-names.js';

/** What changeFeed() takes: the table whose changes are logged and NOTIFYd. */
export interface ChangeFeedOptions {
  /** The table whose changes are published. */
  readonly table: string | QualifiedName;
  /** Its columns that identify a row: each change names its row by them. */
  readonly key: readonly string[];
  /** The columns a change carries and compares (all by default); an update of other columns only is not published. */
  readonly columns?: readonly string[];
  /** The NOTIFY channel; default `<table>_changes`. */
  readonly channel?: string;
  /**
   * Publishes only the rows that match a condition over the row `src`, made with
   * sqlExpression(); an update that makes a row stop matching is published as a `delete`, one
   * that makes it match as an `insert`. Default: every row.
   */
  readonly where?: SqlExpression;
}

const KEYS = ['table', 'key', 'columns', 'channel', 'where'] as const;

/** A NOTIFY payload must stay under 8000 bytes; a larger row is sent by reference. */
export const PAYLOAD_LIMIT = 7900;

/**
 * A change feed: every insert, update and delete of a table is written to a change
 * log and NOTIFYd as JSON — `{ seq, xid, op, key, oldKey, changed, row }`, with `row` left out (and
 * `rowByReference: true`) when the payload would pass PostgreSQL's 8000-byte limit. The log
 * lets a listener catch up after a disconnect: NOTIFY alone loses what is sent while nobody
 * listens. See `listenToChanges` for the listener.
 *
 * @example
 * changeFeed({ table: 'products', key: ['id'] })
 * // CREATE TABLE public.products__changes (
 * //   seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
 * //   xid xid8 NOT NULL DEFAULT pg_catalog.pg_current_xact_id(),
 * //   op text NOT NULL, key jsonb NOT NULL, old_key jsonb, changed text[], row jsonb,
 * //   at timestamptz NOT NULL DEFAULT pg_catalog.now()
 * // );
 * // CREATE TABLE public.products__changes_cursors (...);
 * // CREATE FUNCTION public.products__changes_record() RETURNS trigger ...
 * // CREATE TRIGGER change_feed AFTER INSERT OR UPDATE OR DELETE ON public.products FOR EACH ROW EXECUTE FUNCTION public.products__changes_record();
 * // CREATE FUNCTION public.products__changes_prune(older_than interval) RETURNS bigint ...
 */
export function changeFeed(input: ChangeFeedOptions): ChangeFeedNode {
  const spec = checkObject(input, 'changeFeed', KEYS);
  const table = withSchema(checkQualifiedName(spec.table, 'change feed table'));
  const path = `change feed of "${table.name}"`;
  const key = checkArray(spec.key, `${path}.key`).map((name) => checkIdentifier(name, 'key column'));
  if (key.length === 0) throw new InvalidOptionError(`${path} needs a key, e.g. ['id'].`, `${path}.key`);
  if (new Set(key).size !== key.length)
    throw new InvalidOptionError(`${path} names a key column twice.`, `${path}.key`);
  let columns: readonly string[] | undefined;
  if (spec.columns !== undefined) {
    columns = checkArray(spec.columns, `${path}.columns`).map((name) => checkIdentifier(name, 'feed column'));
    if (columns.length === 0)
      throw new InvalidOptionError(
        `${path}.columns is empty; leave it out to publish every column.`,
        `${path}.columns`,
      );
    if (new Set(columns).size !== columns.length)
      throw new InvalidOptionError(`${path} names a column twice.`, `${path}.columns`);
  }
  const channel =
    spec.channel === undefined
      ? fitFamily([table.name], ([base]) => ({ channel: checkIdentifier(`${base}_changes`, 'notify channel') })).channel
      : checkIdentifier(spec.channel, 'notify channel');
  feedObjects(table);
  return Object.freeze({
    kind: 'change-feed',
    table,
    key: Object.freeze(key),
    columns: columns && Object.freeze(columns),
    channel,
    where: checkRowFilter(spec.where, path),
  });
}

export function renderChangeFeed(node: ChangeFeedNode): Rendered {
  const objects = feedObjects(node.table);
  const table = qualified(node.table);
  const log = qualified(objects.log);
  const named = [...new Set([...node.key, ...(node.columns ?? [])])];
  const keyOf = (row: Fragment) =>
    sql`pg_catalog.jsonb_build_object(${join(node.key.map((column) => sql`${literal(column)}, ${row} -> ${literal(column)}`))})`;
  const publishOf = (row: Fragment) =>
    node.columns === undefined
      ? row
      : sql`(SELECT pg_catalog.jsonb_object_agg(e.key, e.value) FROM pg_catalog.jsonb_each(${row}) AS e WHERE e.key = ANY (ARRAY[${join(node.columns.map(literal))}]))`;
  const payload = (row: Fragment) =>
    sql`pg_catalog.json_build_object('seq', entry_seq, 'xid', entry_xid::text, 'op', operation, 'key', entry_key, 'oldKey', old_key, 'changed', changed, ${row})::text`;
  const what = literal(`change feed of ${displayName(node.table)}`);
  const upkeep = renderFeedUpkeep(node);
  return {
    up: [
      // Every column named must exist: say which one does not, now rather than never.
      sql`DO ${dollarQuoted(sql`
DECLARE
  missing text;
BEGIN
  SELECT pg_catalog.string_agg(c, ', ') INTO missing FROM pg_catalog.unnest(ARRAY[${join(named.map(literal))}]::text[]) AS c
  WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a WHERE a.attrelid = ${regclass(node.table)} AND a.attname = c AND a.attnum > 0 AND NOT a.attisdropped);
  IF missing IS NOT NULL THEN
    ${raiseException({
      errcode: 'undefined_column',
      message: formatted('pg-sync-link: cannot set up the %s: no column %s in the table', what, sql`missing`),
      hint: 'Name only columns the table has, in key and columns.',
    })}
  END IF;
END
`)}`,
      ...(node.where === undefined
        ? []
        : [rowFilterCheck(node.table, node.where, `change feed of ${displayName(node.table)}`)]),
      // Changes are per key, in order, and oldKey names a row: the key must identify one row.
      uniqueKeyCheck(
        node.table,
        node.key,
        'the change feed key',
        'A change feed orders changes per key and reports key moves as oldKey; add a primary key or unique index on the key columns.',
      ),
      sql`CREATE TABLE ${log} (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  xid xid8 NOT NULL DEFAULT pg_catalog.pg_current_xact_id(),
  op text NOT NULL,
  key jsonb NOT NULL,
  old_key jsonb,
  changed text[],
  row jsonb,
  at timestamptz NOT NULL DEFAULT pg_catalog.now()
)`,
      // Catching up reads by transaction id, then sequence (see listenToChanges).
      sql`CREATE INDEX ON ${log} (xid, seq)`,
      sql`CREATE TABLE ${qualified(objects.cursors)} (
  consumer text PRIMARY KEY,
  xid xid8 NOT NULL,
  seq bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT pg_catalog.now()
)`,
      sql`CREATE FUNCTION ${qualified(objects.record)}() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS ${dollarQuoted(sql`
DECLARE
  operation text := pg_catalog.lower(TG_OP);
  whole jsonb := pg_catalog.to_jsonb(CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END);
  published jsonb := ${publishOf(sql`whole`)};
  entry_key jsonb := ${keyOf(sql`whole`)};
  old_key jsonb;
  before jsonb;
  changed text[];
  entry_seq bigint;
  entry_xid xid8;
  payload text;
BEGIN${refuseTruncate(`change feed on channel ${node.channel}`, node.table, objects.truncateTrigger)}${filteredChange(node.where, publishOf, keyOf)}
  IF operation = 'update' THEN
    before := pg_catalog.to_jsonb(OLD);
    -- Set only when the update moved the row to another key.
    old_key := NULLIF(${keyOf(sql`before`)}, entry_key);
    before := ${publishOf(sql`before`)};
    SELECT pg_catalog.array_agg(e.key ORDER BY e.key) INTO changed
      FROM pg_catalog.jsonb_each(published) AS e WHERE e.value IS DISTINCT FROM before -> e.key;
    -- Only columns outside the feed changed: nothing to publish.
    IF changed IS NULL AND old_key IS NULL THEN
      RETURN NULL;
    END IF;
  END IF;
  INSERT INTO ${log} (op, key, old_key, changed, row) VALUES (operation, entry_key, old_key, changed, published)
    RETURNING seq, xid INTO entry_seq, entry_xid;
  payload := ${payload(sql`'row', published`)};
  IF pg_catalog.octet_length(payload) > ${integer(PAYLOAD_LIMIT)} THEN
    -- Too large for NOTIFY: the listener reads the row from the log by seq.
    payload := ${payload(sql`'rowByReference', true`)};
  END IF;
  PERFORM pg_catalog.pg_notify(${literal(node.channel)}, payload);
  RETURN NULL;
END
`)}`,
      sql`CREATE TRIGGER ${ident(objects.trigger)} AFTER INSERT OR UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION ${qualified(objects.record)}()`,
      fireAlways(node.table, objects.trigger),
      sql`CREATE TRIGGER ${ident(objects.truncateTrigger)} ${truncateTrigger(node.table, objects.record)}`,
      fireAlways(node.table, objects.truncateTrigger),
      ...upkeep.up,
    ],
    down: [
      ...upkeep.down,
      sql`DROP TRIGGER ${ident(objects.truncateTrigger)} ON ${table}`,
      sql`DROP TRIGGER ${ident(objects.trigger)} ON ${table}`,
      sql`DROP FUNCTION ${qualified(objects.record)}()`,
      sql`DROP TABLE ${qualified(objects.cursors)}`,
      sql`DROP TABLE ${log}`,
    ],
  };
}

/** A change feed in the kind registry (src/kinds/registry.ts). */
export const changeFeedKind: KindDefinition<ChangeFeedNode> = {
  render: renderChangeFeed,
  describe: (node) => `change feed ${node.table.name}`,
  identity: (node) => `feed ${nameIdentity(node.table)}`,
  step: (node) => `feed-${node.table.schema}.${node.table.name}`,
};
