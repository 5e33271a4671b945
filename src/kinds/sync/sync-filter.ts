import { InvalidOptionError } from '../../errors.js';
import {
  dollarQuoted,
  empty,
  expression,
  literal,
  qualified,
  sql,
  isSqlExpression,
  type Fragment,
  type QualifiedName,
  type SqlExpression,
} from '../../sql/index.js';

// Row filters (`where`): which rows of a table a sync or a change feed carries. A filter reads
// one version of a row as `src`; senders evaluate it on the old version (was the row sent?)
// and on the new one (is it sent now?), so a row that stops matching is deleted on the other
// side, one that starts matching is upserted, and a change of a row that matches in neither
// version sends nothing.

/** The SQL text with quoted strings and quoted identifiers blanked, so words inside them do not count. */
function bareText(text: string): string {
  return text.replace(/'(?:[^']|'')*'|"(?:[^"]|"")*"|\$([A-Za-z_]*)\$[\s\S]*?\$\1\$/g, ' ');
}

/**
 * Checks a `where` option: undefined, or a sqlExpression() over the row `src` alone. Refuses
 * `OLD.` / `NEW.` (the row is always `src`) and subqueries (a filter reading another table
 * would not be evaluated again when that table changes, so rows would silently stay or go).
 */
export function checkRowFilter(value: unknown, path: string): SqlExpression | undefined {
  if (value === undefined) return undefined;
  if (!isSqlExpression(value)) {
    throw new InvalidOptionError(
      `${path}.where must be made with sqlExpression("..."), e.g. sqlExpression('src.user_id IS NOT NULL').`,
      `${path}.where`,
    );
  }
  const bare = bareText(value.text);
  const oldOrNew = /\b(old|new)\s*\./i.exec(bare);
  if (oldOrNew) {
    throw new InvalidOptionError(
      `${path}.where reads ${oldOrNew[0].trim()}: a filter sees one version of the row as src (e.g. src.user_id IS NOT NULL); it is evaluated on the old and the new version by itself.`,
      `${path}.where`,
    );
  }
  if (/\bselect\b/i.test(bare)) {
    throw new InvalidOptionError(
      `${path}.where contains a subquery: a filter may read only the changed row src (its columns, constants and functions), because a change to another table would not send or delete the rows it lets through.`,
      `${path}.where`,
    );
  }
  return value;
}

/** `WHERE (filter)` over rows read as `src`, or nothing without a filter. */
export function whereMatching(filter: SqlExpression | undefined): Fragment {
  return filter === undefined ? empty : sql` WHERE ${expression(filter)}`;
}

/** ` AND (filter)` over rows read as `src`, or nothing without a filter. */
export function andMatching(filter: SqlExpression | undefined): Fragment {
  return filter === undefined ? empty : sql` AND ${expression(filter)}`;
}

/** The table, or only its rows that match the filter (read as `src` inside), for `FROM ... AS alias`. */
export function matchingRows(table: QualifiedName, filter: SqlExpression | undefined): Fragment {
  return filter === undefined
    ? qualified(table)
    : sql`(SELECT * FROM ${qualified(table)} AS src WHERE ${expression(filter)})`;
}

/**
 * At migration time, before anything is created: the filter is evaluated once over a row of
 * NULLs under the triggers' search_path, and must be boolean. The error names `what`.
 */
export function rowFilterCheck(table: QualifiedName, filter: SqlExpression, what: string): Fragment {
  return sql`DO ${dollarQuoted(sql`
DECLARE
  saved_path text := pg_catalog.current_setting('search_path');
  filter_type text;
BEGIN
  BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    SELECT pg_catalog.pg_typeof(${expression(filter)})::text INTO filter_type FROM (SELECT (NULL::${qualified(table)}).*) AS src;
    PERFORM pg_catalog.set_config('search_path', saved_path, true);
  EXCEPTION WHEN OTHERS THEN
    RAISE EXCEPTION USING ERRCODE = SQLSTATE,
      MESSAGE = pg_catalog.format('pg-sync-link: cannot set up the %s: its where filter fails: %s', ${literal(what)}, SQLERRM),
      HINT = 'The filter sees the row as src (src.column), and must schema-qualify any function it calls that is not in pg_catalog.';
  END;
  IF filter_type <> 'boolean' THEN
    RAISE EXCEPTION USING ERRCODE = 'datatype_mismatch',
      MESSAGE = pg_catalog.format('pg-sync-link: cannot set up the %s: its where filter is of type %s, not boolean', ${literal(what)}, filter_type),
      HINT = 'Write a condition, e.g. src.user_id IS NOT NULL.';
  END IF;
END
`)}`;
}
