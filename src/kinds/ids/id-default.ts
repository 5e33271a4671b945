import {
  asLiteral,
  dollarQuoted,
  formatted,
  ident,
  integer,
  literal,
  qualified,
  quoteQualifiedName,
  raiseException,
  regclass,
  sql,
  type Fragment,
} from '../../sql/index.js';
import type { IdTable } from './id-options.js';

// The borrowing side's column default: switched to the id function by up, restored by down.

const PREVIOUS_DEFAULT = 'pg-sync-link: previous default: ';

/**
 * Switches the column's default to `fn()`, keeping the previous default (as PostgreSQL prints
 * it with search_path = pg_catalog, so fully qualified) in the function's comment for down.
 */
export function switchDefault(table: IdTable, column: string, fn: IdTable): { up: Fragment; down: Fragment } {
  const what = literal(`${table.schema}.${table.name}.${column}`);
  const up = sql`DO ${dollarQuoted(sql`
DECLARE
  saved_path text := pg_catalog.current_setting('search_path');
  identity "char";
  previous text;
BEGIN
  -- pg_get_expr qualifies every name it prints that is not on search_path: print it under
  -- pg_catalog alone, then give the rest of the caller's transaction its own search_path back.
  PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
  SELECT a.attidentity, pg_catalog.pg_get_expr(d.adbin, d.adrelid) INTO identity, previous
    FROM pg_catalog.pg_attribute a LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE a.attrelid = ${regclass(table)} AND a.attname = ${literal(column)} AND NOT a.attisdropped;
  IF NOT FOUND THEN
    ${raiseException({ errcode: 'undefined_column', message: formatted('pg-sync-link: column %s does not exist', what) })}
  END IF;
  IF identity <> '' THEN
    ${raiseException({
      errcode: 'feature_not_supported',
      message: formatted('pg-sync-link: %s is an identity column, whose ids cannot come from elsewhere', what),
      hint: 'Drop the identity (ALTER TABLE ... ALTER COLUMN ... DROP IDENTITY) and give the column a plain default first.',
    })}
  END IF;
  EXECUTE pg_catalog.format('COMMENT ON FUNCTION %s() IS %L', ${literal(quoteQualifiedName(fn))}, ${literal(PREVIOUS_DEFAULT)} || COALESCE(previous, ''));
  ALTER TABLE ${qualified(table)} ALTER COLUMN ${ident(column)} SET DEFAULT ${qualified(fn)}();
  PERFORM pg_catalog.set_config('search_path', saved_path, true);
END
`)}`;
  const down = sql`DO ${dollarQuoted(sql`
DECLARE
  saved_path text := pg_catalog.current_setting('search_path');
  previous text := pg_catalog.substr(pg_catalog.obj_description(${literal(`${quoteQualifiedName(fn)}()`)}::pg_catalog.regprocedure, 'pg_proc'), ${integer(PREVIOUS_DEFAULT.length + 1)});
BEGIN
  -- The saved default was printed under pg_catalog alone: read it back the same way, then
  -- give the rest of the caller's transaction its own search_path back.
  PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
  IF previous = '' THEN
    ALTER TABLE ${qualified(table)} ALTER COLUMN ${ident(column)} DROP DEFAULT;
  ELSE
    EXECUTE ${asLiteral(sql`ALTER TABLE ${qualified(table)} ALTER COLUMN ${ident(column)} SET DEFAULT `)} || previous;
  END IF;
  PERFORM pg_catalog.set_config('search_path', saved_path, true);
END
`)}`;
  return { up, down };
}
