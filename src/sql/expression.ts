import { InvalidOptionError } from '../errors.js';

const expressionBrand: unique symbol = Symbol('pg-sync-link.expression');

/**
 * A SQL expression written by the migration's author, used as is: the one place where SQL
 * text from outside this library is trusted, so it must never carry end-user input.
 */
export interface SqlExpression {
  /** Marks an SqlExpression made by sqlExpression(); a plain object cannot pass for one. */
  readonly [expressionBrand]: true;
  /** The SQL text, used as is. */
  readonly text: string;
}

/**
 * Marks SQL text as a trusted expression, e.g. for a computed column of a sync:
 * `sqlExpression("src.status = 'approved'")`. In a sync, `src` is the changed local row.
 */
export function sqlExpression(text: string): SqlExpression {
  if (typeof text !== 'string' || text.trim() === '') {
    throw new InvalidOptionError(
      'sqlExpression() needs the SQL text of an expression, e.g. "src.status = \'approved\'".',
      'sqlExpression',
    );
  }
  if (text.includes('\u0000'))
    throw new InvalidOptionError('An SQL expression cannot contain a NUL character.', 'sqlExpression');
  return Object.freeze({ [expressionBrand]: true as const, text });
}

export function isSqlExpression(value: unknown): value is SqlExpression {
  return typeof value === 'object' && value !== null && expressionBrand in value;
}
