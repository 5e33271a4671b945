import { InvalidIdentifierError, InvalidOptionError } from '../../errors.js';
import { checkArray, checkObject } from '../../spec/object.js';
import { checkIdentifier, checkQualifiedName, dollarQuoted, ident, integer, join, literal, qualified, quoteQualifiedName, sql, type Fragment, type QualifiedName } from '../../sql/index.js';
import type { Rendered } from '../rendered.js';
import { displayName } from '../sync/sender/sync-sender-sql.js';
import { withSchema } from '../sync/sync-names.js';

export interface ChangeFeedOptions {
  /** The table whose changes are published. */
  readonly table: string | QualifiedName;
  /** Its columns that identify a row: each change names its row by them. */
  readonly key: readonly string[];
  /** The columns a change carries and compares (all by default); an update of other columns only is not published. */
  readonly columns?: readonly string[];
  /** The NOTIFY channel; default `<table>_changes`. */
  readonly channel?: string;
}

export interface ChangeFeedNode {
  readonly kind: 'change-feed';
  readonly table: QualifiedName & { readonly schema: string };
  readonly key: readonly string[];
  readonly columns: readonly string[] | undefined;
  readonly channel: string;
}

const KEYS = ['table', 'key', 'columns', 'channel'] as const;

/** A NOTIFY payload must stay under 8000 bytes; a larger row is sent by reference. */
export const PAYLOAD_LIMIT = 7900;

export function feedObjects(table: QualifiedName & { readonly schema: string }) {
  const name = (suffix: string, what: string) => {
    try {
      return { schema: table.schema, name: checkIdentifier(`${table.name}__${suffix}`, what) };
    } catch (error) {
      if (error instanceof InvalidIdentifierError) throw new InvalidIdentifierError(`${error.message} The name is derived from the table name; it is too long for a change feed.`, what);
      throw error;
    }
  };
  return {
    /** Every published change, kept so a listener that was away can catch up. */
    log: name('changes', 'change feed log table'),
    record: name('changes_record', 'change feed trigger function'),
    prune: name('changes_prune', 'change feed prune function'),
    /** Where named listeners keep how far they got. */
    cursors: name('changes_cursors', 'change feed cursor table'),
    trigger: 'change_feed',
  };
}

/**
 * A change feed (seed 004): every insert, update and delete of a table is written to a change
 * log and NOTIFYd as JSON — `{ seq, xid, op, key, oldKey, changed, row }`, with `row` left out (and
 * `rowByReference: true`) when the payload would pass PostgreSQL's 8000-byte limit. The log
 * lets a listener catch up after a disconnect: NOTIFY alone loses what is sent while nobody
 * listens. See `listenToChanges` for the listener.
 */
export function changeFeed(input: ChangeFeedOptions): ChangeFeedNode {
  const spec = checkObject(input, 'changeFeed', KEYS);
  const table = withSchema(checkQualifiedName(spec.table, 'change feed table'));
  const path = `change feed of "${table.name}"`;
  const key = checkArray(spec.key, `${path}.key`).map((name) => checkIdentifier(name, 'key column'));
  if (key.length === 0) throw new InvalidOptionError(`${path} needs a key, e.g. ['id'].`, `${path}.key`);
  if (new Set(key).size !== key.length) throw new InvalidOptionError(`${path} names a key column twice.`, `${path}.key`);
  let columns: readonly string[] | undefined;
  if (spec.columns !== undefined) {
    columns = checkArray(spec.columns, `${path}.columns`).map((name) => checkIdentifier(name, 'feed column'));
    if (columns.length === 0) throw new InvalidOptionError(`${path}.columns is empty; leave it out to publish every column.`, `${path}.columns`);
    if (new Set(columns).size !== columns.length) throw new InvalidOptionError(`${path} names a column twice.`, `${path}.columns`);
  }
  const channel = spec.channel === undefined ? checkIdentifier(`${table.name}_changes`, 'notify channel') : checkIdentifier(spec.channel, 'notify channel');
  feedObjects(table);
  return Object.freeze({ kind: 'change-feed', table, key: Object.freeze(key), columns: columns && Object.freeze(columns), channel });
}

export function renderChangeFeed(node: ChangeFeedNode): Rendered {
  const objects = feedObjects(node.table);
  const table = qualified(node.table);
  const log = qualified(objects.log);
  const named = [...new Set([...node.key, ...(node.columns ?? [])])];
  const keyOf = (row: Fragment) => sql`pg_catalog.jsonb_build_object(${join(node.key.map((column) => sql`${literal(column)}, ${row} -> ${literal(column)}`))})`;
  const publishOf = (row: Fragment) =>
    node.columns === undefined
      ? row
      : sql`(SELECT pg_catalog.jsonb_object_agg(e.key, e.value) FROM pg_catalog.jsonb_each(${row}) AS e WHERE e.key = ANY (ARRAY[${join(node.columns.map(literal))}]))`;
  const payload = (row: Fragment) =>
    sql`pg_catalog.json_build_object('seq', entry_seq, 'xid', entry_xid::text, 'op', operation, 'key', entry_key, 'oldKey', old_key, 'changed', changed, ${row})::text`;
  const what = literal(`change feed of ${displayName(node.table)}`);
  return {
    up: [
      // Every column named must exist: say which one does not, now rather than never.
      sql`DO ${dollarQuoted(sql`
DECLARE
  missing text;
BEGIN
  SELECT pg_catalog.string_agg(c, ', ') INTO missing FROM pg_catalog.unnest(ARRAY[${join(named.map(literal))}]::text[]) AS c
  WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a WHERE a.attrelid = ${literal(quoteQualifiedName(node.table))}::pg_catalog.regclass AND a.attname = c AND a.attnum > 0 AND NOT a.attisdropped);
  IF missing IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'undefined_column',
      MESSAGE = pg_catalog.format('pg-sync-link: cannot set up the %s: no column %s in the table', ${what}, missing),
      HINT = 'Name only columns the table has, in key and columns.';
  END IF;
END
`)}`,
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
BEGIN
  IF TG_OP = 'UPDATE' THEN
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
      sql`CREATE FUNCTION ${qualified(objects.prune)}(older_than interval) RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS ${dollarQuoted(sql`
  WITH pruned AS (DELETE FROM ${log} WHERE at < pg_catalog.now() - older_than RETURNING 1)
  SELECT pg_catalog.count(*) FROM pruned
`)}`,
    ],
    down: [
      sql`DROP FUNCTION ${qualified(objects.prune)}(interval)`,
      sql`DROP TRIGGER ${ident(objects.trigger)} ON ${table}`,
      sql`DROP FUNCTION ${qualified(objects.record)}()`,
      sql`DROP TABLE ${qualified(objects.cursors)}`,
      sql`DROP TABLE ${log}`,
    ],
  };
}
