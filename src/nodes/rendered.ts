import type { Fragment } from '../sql/index.js';

/** What one object kind renders to: statements to create it and, in order, to remove it. */
export interface Rendered {
  readonly up: readonly Fragment[];
  readonly down: readonly Fragment[];
}
