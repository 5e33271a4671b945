import { join, literal, sql, type Fragment } from './fragment.js';
import { quoteQualifiedName, type QualifiedName } from './identifier.js';

/**
 * A relation named by a constant, as PL/pgSQL and catalog queries take it:
 * `'schema.name'::pg_catalog.regclass`. The name is quoted as an identifier first, then as a
 * literal, so a name that needs double quotes resolves to the same relation.
 *
 * @example
 * regclass({ schema: 'shop', name: 'Order' })  // 'shop."Order"'::pg_catalog.regclass
 */
export function regclass(name: QualifiedName): Fragment {
  return sql`${literal(quoteQualifiedName(name))}::pg_catalog.regclass`;
}

/**
 * `pg_catalog.format(template, args...)`: a message built at run time. The template is a
 * literal; `%s`, `%I`, `%L` in it take the arguments in order.
 */
export function formatted(template: string, ...args: readonly Fragment[]): Fragment {
  return args.length === 0
    ? sql`pg_catalog.format(${literal(template)})`
    : sql`pg_catalog.format(${literal(template)}, ${join(args)})`;
}

/** What raiseException() raises: each part a literal (a string) or an expression (a fragment). */
export interface RaisedError {
  /** The condition name or SQLSTATE (`'undefined_object'`), or an expression such as SQLSTATE to raise a caught error's own. */
  readonly errcode: string | Fragment;
  /** The message: a literal, or an expression such as formatted(...). */
  readonly message: string | Fragment;
  /** The detail, when there is one. */
  readonly detail?: string | Fragment;
  /** What to do about it, when there is something to say. */
  readonly hint?: string | Fragment;
}

function value(part: string | Fragment): Fragment {
  return typeof part === 'string' ? literal(part) : part;
}

/**
 * The PL/pgSQL statement that raises an error, or raises a caught one again with its SQLSTATE
 * kept (`errcode: sql\`SQLSTATE\``) and a message that says where it happened.
 *
 * @example
 * raiseException({ errcode: 'undefined_object', message: formatted('pg-sync-link: %s has no sequence', what) })
 * // RAISE EXCEPTION USING ERRCODE = 'undefined_object', MESSAGE = pg_catalog.format('pg-sync-link: %s has no sequence', ...);
 */
export function raiseException(error: RaisedError): Fragment {
  const parts = [sql`ERRCODE = ${value(error.errcode)}`, sql`MESSAGE = ${value(error.message)}`];
  if (error.detail !== undefined) parts.push(sql`DETAIL = ${value(error.detail)}`);
  if (error.hint !== undefined) parts.push(sql`HINT = ${value(error.hint)}`);
  return sql`RAISE EXCEPTION USING ${join(parts)};`;
}
