import { empty, expression, sql, type Fragment, type SqlExpression } from '../../sql/index.js';

/**
 * The start of a filtered feed's row trigger: a change of a row that matches in neither version
 * is not published; an update that makes a row stop matching is published as a delete of its
 * old version, one that makes it match as an insert. Sets `operation`, `whole`, `published` and
 * `entry_key` (declared by the trigger function) when it turns an update into a delete.
 */
export function filteredChange(
  filter: SqlExpression | undefined,
  publishOf: (row: Fragment) => Fragment,
  keyOf: (row: Fragment) => Fragment,
): Fragment {
  if (filter === undefined) return empty;
  const matches = (row: 'OLD' | 'NEW') =>
    sql`(SELECT COALESCE(${expression(filter)}, false) FROM (SELECT ${row === 'OLD' ? sql`OLD.*` : sql`NEW.*`}) AS src)`;
  return sql`
  -- Row filter: was the row published before this change, is it now.
  IF TG_OP = 'INSERT' AND NOT ${matches('NEW')} OR TG_OP = 'DELETE' AND NOT ${matches('OLD')} THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'UPDATE' THEN
    IF NOT ${matches('OLD')} THEN
      IF NOT ${matches('NEW')} THEN
        RETURN NULL;
      END IF;
      operation := 'insert';
    ELSIF NOT ${matches('NEW')} THEN
      operation := 'delete';
      whole := pg_catalog.to_jsonb(OLD);
      published := ${publishOf(sql`whole`)};
      entry_key := ${keyOf(sql`whole`)};
    END IF;
  END IF;`;
}
