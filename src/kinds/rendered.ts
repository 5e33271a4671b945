import type { Fragment } from '../sql/index.js';

/** What one object kind renders to: statements to create it and, in order, to remove it. */
export interface Rendered {
  readonly up: readonly Fragment[];
  readonly down: readonly Fragment[];
  /**
   * False when a statement cannot run inside a transaction block (DROP SUBSCRIPTION of a
   * subscription with a slot): the whole migration then runs without a transaction.
   */
  readonly transactional?: false;
}

/** True unless one of the steps must run outside a transaction block. */
export function allTransactional(steps: readonly Rendered[]): boolean {
  return steps.every((step) => step.transactional !== false);
}
