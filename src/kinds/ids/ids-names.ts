import { checkIdentifier, type QualifiedName } from '../../sql/index.js';

// Names of the objects shared ids create, derived in one place so both sides (and the doctor)
// agree on them: `<table>__<column>_<object>`, next to the column's table.

/** The objects of shared ids, by the suffix of their name. */
export type IdObject =
  | 'next'
  | 'nextval'
  | 'next_taker'
  | 'blocks'
  | 'block'
  | 'block_taker'
  | 'next_id'
  | 'source'
  | 'cache'
  | 'current';

/** Between the table and the column in an id object's name. */
export const ID_STEM_SEPARATOR = '__';

/** What every shared-id object name of one column starts with: `<table>__<column>`. */
export function idStem(table: string, column: string): string {
  return `${table}${ID_STEM_SEPARATOR}${column}`;
}

/** What an id object's name ends with: `_<object>`. */
export function idSuffix(object: IdObject): string {
  return `_${object}`;
}

/** An id object's name, unchecked: `<stem>_<object>`. */
export function idObjectName(stem: string, object: IdObject): string {
  return `${stem}${idSuffix(object)}`;
}

/** The stem of an id object's name (`<table>__<column>`), or undefined when it is not one of `object`. */
export function idStemOf(name: string, object: IdObject): string | undefined {
  const suffix = idSuffix(object);
  return name.endsWith(suffix) && name.length > suffix.length ? name.slice(0, -suffix.length) : undefined;
}

/** An id object of a column, checked as an identifier, in the column's schema. */
export function idObject(
  table: QualifiedName & { readonly schema: string },
  column: string,
  object: IdObject,
): QualifiedName & { readonly schema: string } {
  return {
    schema: table.schema,
    name: checkIdentifier(idObjectName(idStem(table.name, column), object), 'shared id object'),
  };
}
