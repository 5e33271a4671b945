import { InvalidIdentifierError } from '../errors.js';
import { RESERVED_KEYWORDS } from './keywords.js';

/** PostgreSQL truncates longer names silently (NAMEDATALEN - 1 bytes); we refuse them instead. */
export const MAX_IDENTIFIER_BYTES = 63;

/** A name in a schema. Never written as "schema.name": a dot is a legal character in a name. */
export interface QualifiedName {
  /** The schema; when left out, search_path decides (foreign tables, publications), or public (syncs, feeds, ids). */
  readonly schema?: string;
  /** The name in the schema. */
  readonly name: string;
}

const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;
const BARE_IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

function printable(value: string): string {
  return JSON.stringify(value);
}

/**
 * Checks that `name` can be a PostgreSQL identifier exactly as given, and returns it.
 * `what` names the thing in the error, e.g. `foreign table column`.
 */
export function checkIdentifier(name: unknown, what: string): string {
  if (typeof name !== 'string') {
    throw new InvalidIdentifierError(
      `The ${what} name must be a string, got ${name === null ? 'null' : typeof name}.`,
      what,
    );
  }
  if (name.length === 0) {
    throw new InvalidIdentifierError(`The ${what} name is empty; give it a name.`, what);
  }
  if (CONTROL_CHARACTER.test(name)) {
    throw new InvalidIdentifierError(
      `The ${what} name ${printable(name)} contains a control character (NUL, newline, tab...); remove it.`,
      what,
    );
  }
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > MAX_IDENTIFIER_BYTES) {
    throw new InvalidIdentifierError(
      `The ${what} name ${printable(name)} is ${bytes} bytes long; PostgreSQL keeps only ${MAX_IDENTIFIER_BYTES} bytes of a name. Shorten it.`,
      what,
    );
  }
  return name;
}

/** Checks both parts of a qualified name; `schema` may be absent (resolved by search_path). */
export function checkQualifiedName(value: unknown, what: string): QualifiedName {
  if (typeof value === 'string') {
    return { name: checkIdentifier(value, what) };
  }
  if (typeof value !== 'object' || value === null || !('name' in value)) {
    throw new InvalidIdentifierError(`The ${what} must be a name or { schema, name }.`, what);
  }
  const name = value.name;
  const schema = 'schema' in value ? value.schema : undefined;
  return schema === undefined
    ? { name: checkIdentifier(name, what) }
    : { schema: checkIdentifier(schema, `${what} schema`), name: checkIdentifier(name, what) };
}

/**
 * Quotes an identifier for SQL text. Lower-case names that are not reserved keywords stay bare so the
 * SQL reads naturally; everything else is double-quoted with embedded quotes doubled.
 */
export function quoteIdentifier(name: string): string {
  const checked = checkIdentifier(name, 'identifier');
  if (BARE_IDENTIFIER.test(checked) && !RESERVED_KEYWORDS.has(checked)) return checked;
  return `"${checked.replaceAll('"', '""')}"`;
}

/** A schema-qualified name as SQL: each part checked and quoted when needed, e.g. `legacy."Order"`. */
export function quoteQualifiedName(value: QualifiedName): string {
  return value.schema === undefined
    ? quoteIdentifier(value.name)
    : `${quoteIdentifier(value.schema)}.${quoteIdentifier(value.name)}`;
}
