export {
  checkIdentifier,
  checkQualifiedName,
  quoteIdentifier,
  quoteQualifiedName,
  MAX_IDENTIFIER_BYTES,
} from './identifier.js';
export type { QualifiedName } from './identifier.js';
export { quoteLiteral } from './literal.js';
export {
  sql,
  ident,
  columnType,
  expression,
  asLiteral,
  integer,
  renderedEarlier,
  isFullyRendered,
  qualified,
  literal,
  deferredLiteral,
  join,
  empty,
  dollarQuoted,
  isFragment,
} from './fragment.js';
export type { Fragment, Chunk, DeferredLiteral } from './fragment.js';
export { previewSql, resolveStatements, scrubSecrets } from './render.js';
export type { ResolvedStatements, ResolvedStatement, Executable } from './render.js';
export { checkTypeName } from './type-name.js';
export { sqlExpression, isSqlExpression } from './expression.js';
export type { SqlExpression } from './expression.js';
export { regclass, formatted, raiseException } from './plpgsql.js';
export type { RaisedError } from './plpgsql.js';
